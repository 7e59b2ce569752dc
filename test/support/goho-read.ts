/** GOHO helpers for garbage collection tests: leaves to append, and reading a head offline. */
import type { CID } from 'multiformats/cid';
import { type LeafInput, openGoho } from '../../src/lattice/index.ts';
import type { Store } from '../../src/store/types.ts';

/** `n` appends to path `p`, valued from `from` on. */
export const leaves = (from: number, n: number): LeafInput[] =>
  Array.from({ length: n }, (_, i) => ({
    path: 'p',
    action: 'append' as const,
    value: from + i,
    author: '@a:h',
  }));

/** Reads never go to the network: a block the collection took shows as an error. */
export const offline = (store: Store): Store => ({
  ...store,
  getBlock: (cid, o) => store.getBlock(cid, { ...o, offline: true }),
});

/** How many leaves a head has, read from this store alone (throws when a block is gone). */
export async function readable(store: Store, origin: CID, head: CID): Promise<number> {
  const g = await openGoho(offline(store), origin, head);
  return (await g.leaves()).length;
}
