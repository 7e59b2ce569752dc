import type { CID } from 'multiformats/cid';
import { encodeInline, inlineSize } from '../blocks/codec.ts';
import type { InlineBlock } from '../protocol/events.ts';
import type { Store } from '../store/types.ts';

const BUDGET = 30_000;

/** A result's blocks to carry inline in a completion event, or none when they are too big. */
export async function resultBlocks(store: Store, root: CID): Promise<InlineBlock[]> {
  const out: InlineBlock[] = [];
  let size = 0;
  for (const cid of await store.collect(root, { offline: true, maxBlocks: 64 })) {
    const bytes = await store.getBlock(cid, { offline: true });
    size += inlineSize(bytes);
    if (size > BUDGET) return [];
    out.push(encodeInline(cid, bytes));
  }
  return out;
}
