import type { CID } from 'multiformats/cid';
import type { z } from 'zod';
import { MeshError } from '../errors/index.ts';
import { DAG_JSON } from '../store/cid.ts';
import type { Store } from '../store/types.ts';
import { BadBlockError } from './errors.ts';
import { type Leaf, leafSchema, type Root, rootSchema } from './schema.ts';

type Opts = { signal?: AbortSignal };

/** Reads a block through the store (fetchers included) and validates it against a schema. */
async function readValid<S extends z.ZodType>(
  store: Store,
  cid: CID,
  schema: S,
  what: string,
  opts: Opts,
): Promise<z.infer<S>> {
  if (cid.code !== DAG_JSON) throw new BadBlockError(`${what} ${cid} is not a dag-json block`);
  let raw: unknown;
  try {
    raw = await store.getDag(cid, opts);
  } catch (err) {
    // Undecodable bytes are the peer's fault; missing blocks and timeouts are not.
    if (err instanceof MeshError && err.code === 'BAD_INPUT') {
      throw new BadBlockError(`${what} ${cid} is not valid dag-json`, { cause: err });
    }
    throw err;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    throw new BadBlockError(`${what} ${cid} is invalid${where}: ${issue?.message ?? 'bad shape'}`);
  }
  return parsed.data;
}

export const readRoot = (store: Store, cid: CID, opts: Opts = {}): Promise<Root> =>
  readValid(store, cid, rootSchema, 'GOHO root', opts);

export const readLeaf = (store: Store, cid: CID, opts: Opts = {}): Promise<Leaf> =>
  readValid(store, cid, leafSchema, 'GOHO leaf', opts);

/** Maps with bounded concurrency, keeping order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
