import type { CID } from 'multiformats/cid';
import { encodeInline, inlineSize } from '../blocks/codec.ts';
import type { InlineBlock } from '../protocol/events.ts';
import type { Store } from '../store/types.ts';

const BUDGET = 30_000;
const MAX_BLOCKS = 64;

/**
 * A result's blocks to carry inline in a completion event, or none when they are too big.
 * Listed `partial`: a result of more than MAX_BLOCKS blocks (an output over 64 MiB, which
 * `maxOutputBytes` allows) is one too big to carry, not a failure of the run that made it.
 */
export async function resultBlocks(store: Store, root: CID): Promise<InlineBlock[]> {
  const listed = { offline: true, maxBlocks: MAX_BLOCKS + 1, partial: true };
  const cids = await store.collect(root, listed);
  if (cids.length > MAX_BLOCKS) return [];
  const out: InlineBlock[] = [];
  let size = 0;
  for (const cid of cids) {
    const bytes = await store.getBlock(cid, { offline: true });
    size += inlineSize(bytes);
    if (size > BUDGET) return [];
    out.push(encodeInline(cid, bytes));
  }
  return out;
}
