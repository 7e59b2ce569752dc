import type { BlockCodec } from 'multiformats';
import { createUnsafe } from 'multiformats/block';
import type { CID } from 'multiformats/cid';
import { RAW } from './cid.ts';
import { TooLargeError } from './errors.ts';
import type { CollectOptions, GetOptions } from './types.ts';

export interface CollectDeps {
  getBlock(cid: CID, opts?: GetOptions): Promise<Uint8Array>;
  getCodec(code: number): BlockCodec<number, unknown> | Promise<BlockCodec<number, unknown>>;
}

export const DEFAULT_MAX_BLOCKS = 10_000;

/**
 * Every CID reachable from root, breadth-first, each once; throws past maxBlocks, or with
 * `partial` returns the first maxBlocks and skips blocks that cannot be found (CollectOptions).
 */
export async function collectDag(
  deps: CollectDeps,
  root: CID,
  opts: CollectOptions = {},
): Promise<CID[]> {
  const maxBlocks = opts.maxBlocks ?? DEFAULT_MAX_BLOCKS;
  const seen = new Set<string>([root.toString()]);
  const order: CID[] = [root];
  const missing = new Set<CID>();
  const found = () => (missing.size === 0 ? order : order.filter((c) => !missing.has(c)));
  for (let i = 0; i < order.length; i++) {
    opts.signal?.throwIfAborted();
    const cid = order[i] as CID;
    if (cid.code === RAW) continue;
    const bytes = await deps.getBlock(cid, opts).catch((err: unknown) => {
      if (opts.partial && (err as { code?: unknown } | null)?.code === 'NOT_FOUND') return;
      throw err;
    });
    if (!bytes) {
      missing.add(cid);
      continue;
    }
    const codec = await deps.getCodec(cid.code);
    const block = createUnsafe({ bytes, cid, codec });
    for (const [, link] of block.links()) {
      const key = link.toString();
      if (seen.has(key)) continue;
      seen.add(key);
      order.push(link);
      if (order.length > maxBlocks) {
        if (opts.partial) return found().slice(0, maxBlocks);
        throw new TooLargeError(`the DAG under ${root} has more than ${maxBlocks} blocks`);
      }
    }
  }
  return found();
}
