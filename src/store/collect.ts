import type { BlockCodec } from 'multiformats';
import { createUnsafe } from 'multiformats/block';
import type { CID } from 'multiformats/cid';
import { RAW } from './cid.ts';
import { TooLargeError } from './errors.ts';
import type { GetOptions } from './types.ts';

export interface CollectDeps {
  getBlock(cid: CID, opts?: GetOptions): Promise<Uint8Array>;
  getCodec(code: number): BlockCodec<number, unknown> | Promise<BlockCodec<number, unknown>>;
}

export const DEFAULT_MAX_BLOCKS = 10_000;

/** Every CID reachable from root, breadth-first, each once; throws past maxBlocks. */
export async function collectDag(
  deps: CollectDeps,
  root: CID,
  opts: GetOptions & { maxBlocks?: number } = {},
): Promise<CID[]> {
  const maxBlocks = opts.maxBlocks ?? DEFAULT_MAX_BLOCKS;
  const seen = new Set<string>([root.toString()]);
  const order: CID[] = [root];
  for (let i = 0; i < order.length; i++) {
    opts.signal?.throwIfAborted();
    const cid = order[i] as CID;
    if (cid.code === RAW) continue;
    const bytes = await deps.getBlock(cid, opts);
    const codec = await deps.getCodec(cid.code);
    const block = createUnsafe({ bytes, cid, codec });
    for (const [, link] of block.links()) {
      const key = link.toString();
      if (seen.has(key)) continue;
      seen.add(key);
      order.push(link);
      if (order.length > maxBlocks) {
        throw new TooLargeError(`the DAG under ${root} has more than ${maxBlocks} blocks`);
      }
    }
  }
  return order;
}
