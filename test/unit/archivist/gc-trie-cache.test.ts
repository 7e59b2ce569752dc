/**
 * A GOHO's trie cache outlives a garbage collection: a trie node it holds decoded may have
 * been deleted from the store since. A merge that then finds it in the cache must not link the
 * new head to it as if it were stored: every block of the node's head stays in its store.
 */
import { describe, expect, it } from 'vitest';
import { GcBarrier } from '../../../src/archivist/barrier.ts';
import { collectGarbage } from '../../../src/archivist/gc.ts';
import { createGoho, type LeafInput } from '../../../src/lattice/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';
import { missing } from '../../support/goho-read.ts';

const leaves = (from: number, n: number): LeafInput[] =>
  Array.from({ length: n }, (_, i) => ({
    path: 'p',
    action: 'append' as const,
    value: from + i,
    author: '@peer:h',
  }));

describe('garbage collection and the GOHO trie cache', () => {
  it('never lets a merge link a head to a cached trie node a collection deleted', async () => {
    // A peer's GOHO: 600 leaves (a trie two branch levels deep), then one more.
    const peer = createMemoryStore();
    const theirs = await createGoho(peer, { name: 'shared' });
    const p1 = await theirs.appendAll(leaves(0, 600));

    // This node fetches what it lacks from the peer; leaf blocks stop coming for a while.
    const raw = createMemoryStore({ fetchBudgetMs: 2_000 });
    let peerUp = true;
    let leavesCome = false;
    raw.addFetcher({
      name: 'peer',
      fetch: async (cid) => {
        if (!peerUp) throw new Error('peer gone');
        const bytes = await peer.getBlock(cid, { offline: true });
        if (!leavesCome && new TextDecoder().decode(bytes).includes('"path"')) {
          throw new Error('leaf not sent in time');
        }
        return bytes;
      },
    });
    const barrier = new GcBarrier(raw);
    const node = barrier.guard(raw);
    const ours = await createGoho(node, { name: 'shared' });

    // Merging p1 reads its whole trie (and keeps it decoded), then fails on its leaves.
    await expect(ours.merge(p1)).rejects.toThrow();
    // The peer moves on: p1 is no longer announced, p2's blocks are not here yet.
    const p2 = await theirs.appendAll(leaves(600, 1));

    // A collection now keeps this node's head (the origin) and p2 (nothing of it is here):
    // p1's trie nodes, fetched for the failed merge, go.
    const session = barrier.begin();
    try {
      const gc = await collectGarbage(session, () => [ours.head(), p2], silentLogger);
      expect(gc.deleted).toBeGreaterThan(10);
    } finally {
      session.end();
    }

    // p2 comes whole; the merge takes it.
    leavesCome = true;
    const head = await ours.merge(p2);
    expect(head.equals(p2)).toBe(true);
    // The peer goes away: this node must hold every block of its own head.
    peerUp = false;
    expect(await missing(raw, head)).toEqual([]);
  });
});
