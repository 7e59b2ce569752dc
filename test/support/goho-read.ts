/** GOHO helpers for garbage collection tests: leaves to append, reading a head offline, and the blocks of a head a store lacks. */
import * as dagJson from '@ipld/dag-json';
import { CID } from 'multiformats/cid';
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

/** The blocks of a head (root, trie nodes, leaves) the store lacks. */
export async function missing(store: Store, head: CID): Promise<string[]> {
  const out: string[] = [];
  const stack: CID[] = [head];
  for (let cid = stack.pop(); cid; cid = stack.pop()) {
    if (!(await store.hasBlock(cid))) {
      out.push(cid.toString());
      continue;
    }
    const value = dagJson.decode<Record<string, unknown>>(await store.getBlock(cid));
    for (const link of [value.tree, ...((value.bucket ?? value.branch ?? []) as unknown[])]) {
      const child = CID.asCID(link);
      if (child) stack.push(child);
    }
  }
  return out;
}
