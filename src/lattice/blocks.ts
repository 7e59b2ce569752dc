import * as dagJson from '@ipld/dag-json';
import type { CID } from 'multiformats/cid';
import type { z } from 'zod';
import { parseWith } from '../errors/zod.ts';
import { DAG_JSON } from '../store/cid.ts';
import type { Store } from '../store/types.ts';
import { Budget } from './budget.ts';
import { BadBlockError } from './errors.ts';
import { type Leaf, leafSchema, type Root, rootSchema } from './schema.ts';

/** `offline`: read only the local store (Store GetOptions); a missing block is NOT_FOUND. */
export type ReadOpts = { signal?: AbortSignal; budget?: Budget; offline?: boolean };

/**
 * Reads a block through the store (fetchers included), charges it to the budget, decodes it
 * and validates it against a schema. Missing blocks and timeouts are thrown as they are;
 * bytes that are not what the schema says are the peer's fault: BadBlockError.
 */
export async function readValid<S extends z.ZodType>(
  store: Store,
  cid: CID,
  schema: S,
  what: string,
  opts: ReadOpts = {},
): Promise<z.infer<S>> {
  if (cid.code !== DAG_JSON) throw new BadBlockError(`${what} ${cid} is not a dag-json block`);
  const bytes = await store.getBlock(cid, { signal: opts.signal, offline: opts.offline });
  (opts.budget ?? new Budget()).charge(`${what} ${cid}`, bytes.byteLength);
  let raw: unknown;
  try {
    raw = dagJson.decode(bytes);
  } catch (err) {
    throw new BadBlockError(`${what} ${cid} is not valid dag-json`, { cause: err });
  }
  return parseWith(schema, raw, `${what} ${cid}`, (message) => new BadBlockError(message));
}

export const readRoot = (store: Store, cid: CID, opts: ReadOpts = {}): Promise<Root> =>
  readValid(store, cid, rootSchema, 'GOHO root', opts);

export const readLeaf = (store: Store, cid: CID, opts: ReadOpts = {}): Promise<Leaf> =>
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
