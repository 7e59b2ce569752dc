/**
 * The write barrier between a running node and its garbage collection: a block the node uses
 * while a collection runs stays, even when the node writes it again in the middle of its
 * deletion.
 */
import type { CID } from 'multiformats/cid';
import { describe, expect, it } from 'vitest';
import { GcBarrier } from '../../../src/archivist/barrier.ts';
import { TrieIo } from '../../../src/lattice/trie-node.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';
import type { Store } from '../../../src/store/types.ts';

/** A store whose deletions wait for `during` (the node acting meanwhile). */
function slowDeletes(store: Store, during: () => Promise<void>): Store {
  return {
    ...store,
    deleteBlock: async (cid, o) => {
      await during();
      await store.deleteBlock(cid, o);
    },
  };
}

describe('the GC barrier', () => {
  it('keeps a block the node read, wrote or looked for while the collection runs', async () => {
    const raw = createMemoryStore();
    const barrier = new GcBarrier(raw);
    const node = barrier.guard(raw);
    const [read, looked, written, idle] = (await Promise.all(
      ['read', 'looked', 'written', 'idle'].map((s) => raw.putDag({ s })),
    )) as [CID, CID, CID, CID];
    const session = barrier.begin();
    await node.getBlock(read);
    await node.hasBlock(looked);
    expect(await node.putDag({ s: 'written' })).toEqual(written);
    expect(await session.delete(read)).toBe(false);
    expect(await session.delete(looked)).toBe(false);
    expect(await session.delete(written)).toBe(false);
    expect(await session.delete(idle)).toBe(true);
    session.end();
    expect(await raw.hasBlock(read)).toBe(true);
    expect(await raw.hasBlock(written)).toBe(true);
    expect(await raw.hasBlock(idle)).toBe(false);
  });

  it('puts back a block the node wrote during its deletion; the node waits, then finds it', async () => {
    const mem = createMemoryStore();
    const cid = await mem.putDag({ old: 'trie node' });
    const bytes = await mem.getBlock(cid);
    let nodeRead: Promise<Uint8Array> | undefined;
    const raw = slowDeletes(mem, async () => {
      // The node writes the block again (a new head links to it) and reads it back.
      nodeRead = node.putBlock(cid, bytes).then(() => node.getBlock(cid, { offline: true }));
    });
    const barrier = new GcBarrier(raw);
    const node = barrier.guard(raw);
    const session = barrier.begin();
    expect(await session.delete(cid)).toBe(false);
    expect(await nodeRead).toEqual(bytes);
    expect(await mem.hasBlock(cid)).toBe(true);
    session.end();
  });

  it('keeps a block the node holds decoded and uses from its cache', async () => {
    const raw = createMemoryStore();
    const barrier = new GcBarrier(raw);
    const node = barrier.guard(raw);
    const io = new TrieIo(node);
    const cid = await io.put({ bucket: [await raw.putDag({ leaf: 1 })] });
    const session = barrier.begin();
    // A merge finds the node in its cache and links a new version to it: no store read.
    await io.get(cid);
    expect(await session.delete(cid)).toBe(false);
    session.end();
    expect(await raw.hasBlock(cid)).toBe(true);
  });

  it('runs one collection at a time, and notes nothing between collections', async () => {
    const raw = createMemoryStore();
    const barrier = new GcBarrier(raw);
    const node = barrier.guard(raw);
    const cid = await node.putDag({ before: 'any collection' });
    const first = barrier.begin();
    expect(() => barrier.begin()).toThrow(expect.objectContaining({ code: 'GC_BUSY' }));
    first.end();
    const second = barrier.begin();
    expect(await second.delete(cid)).toBe(true);
    second.end();
  });
});
