/** TrieIo's cache of decoded nodes: bounded by the CIDs it holds, least recently used out. */
import * as dagJson from '@ipld/dag-json';
import type { CID } from 'multiformats/cid';
import { describe, expect, it } from 'vitest';
import { BUCKET_MAX, CACHE_CIDS, sortCids, TrieIo } from '../../../src/lattice/trie-node.ts';
import { cidOf, DAG_JSON } from '../../../src/store/cid.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';

const leaf = (i: number): CID => cidOf(DAG_JSON, dagJson.encode({ leaf: i }));

/** A full bucket of leaves of its own: BUCKET_MAX + 1 CIDs of weight. */
const bucket = (n: number) => ({
  bucket: sortCids(Array.from({ length: BUCKET_MAX }, (_, i) => leaf(n * BUCKET_MAX + i))),
});

describe('TrieIo cache', () => {
  it('holds at most CACHE_CIDS CIDs however many nodes pass through it', async () => {
    const store = createMemoryStore();
    const io = new TrieIo(store);
    const nodes = Math.ceil((3 * CACHE_CIDS) / (BUCKET_MAX + 1));
    for (let n = 0; n < nodes; n++) await io.put(bucket(n));
    expect(io.cached.cids).toBeLessThanOrEqual(CACHE_CIDS);
    expect(io.cached.nodes).toBe(Math.floor(CACHE_CIDS / (BUCKET_MAX + 1)));
  });

  it('keeps a node in use while older ones go, and reads evicted ones from the store', async () => {
    const store = createMemoryStore();
    const io = new TrieIo(store);
    const first = await io.put(bucket(0));
    const second = await io.put(bucket(1));
    const room = Math.floor(CACHE_CIDS / (BUCKET_MAX + 1));
    for (let n = 2; n < 2 * room; n++) {
      await io.put(bucket(n));
      // `first` is read all along, as the newest path is by every append.
      await io.get(first);
    }
    const reads: string[] = [];
    const getBlock = store.getBlock.bind(store);
    store.getBlock = (cid, opts) => {
      reads.push(cid.toString());
      return getBlock(cid, opts);
    };
    expect(await io.get(first)).toEqual(bucket(0));
    expect(reads).toEqual([]);
    expect(await io.get(second)).toEqual(bucket(1));
    expect(reads).toEqual([second.toString()]);
  });
});
