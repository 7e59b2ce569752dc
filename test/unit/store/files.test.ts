import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as dagPb from '@ipld/dag-pb';
import { UnixFS } from 'ipfs-unixfs';
import type { CID } from 'multiformats/cid';
import { describe, expect, it } from 'vitest';
import { cidOf, DAG_PB, RAW } from '../../../src/store/cid.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';
import type { Store } from '../../../src/store/types.ts';

/** A UnixFS file node over children of the given sizes. */
async function fileNode(store: Store, children: { cid: CID; size: number }[]) {
  const data = new UnixFS({ type: 'file', blockSizes: children.map((c) => BigInt(c.size)) });
  const links = children.map((c) => ({ Hash: c.cid, Tsize: c.size }));
  const bytes = dagPb.encode(dagPb.prepare({ Data: data.marshal(), Links: links }));
  const cid = cidOf(DAG_PB, bytes);
  await store.putBlock(cid, bytes);
  return { cid, size: children.reduce((n, c) => n + c.size, 0) };
}

/**
 * A 256 KiB file in three levels (16 x 16 leaves of 1 KiB), as another IPFS tool may lay one
 * out, in a store of its own; and an empty store that fetches from it, counting its fetches.
 */
async function deepFileElsewhere() {
  const source = createMemoryStore();
  const mids = [];
  for (let m = 0; m < 16; m++) {
    const leaves = [];
    for (let l = 0; l < 16; l++) {
      const bytes = new Uint8Array(1024).fill(m * 16 + l);
      const cid = cidOf(RAW, bytes);
      await source.putBlock(cid, bytes);
      leaves.push({ cid, size: bytes.byteLength });
    }
    mids.push(await fileNode(source, leaves));
  }
  const root = await fileNode(source, mids);
  const here = createMemoryStore();
  const fetched = { count: 0, inFlight: 0, mostInFlight: 0 };
  here.addFetcher({
    name: 'peer',
    async fetch(c, { signal }) {
      fetched.count += 1;
      fetched.inFlight += 1;
      fetched.mostInFlight = Math.max(fetched.mostInFlight, fetched.inFlight);
      await sleep(2);
      fetched.inFlight -= 1;
      return source.getBlock(c, { signal, offline: true });
    },
  });
  return { cid: root.cid, here, fetched };
}

describe('reading a file past its cap', () => {
  it('cat stops fetching the rest of a file it refused as too large', async () => {
    const { cid, here, fetched } = await deepFileElsewhere();
    await expect(here.cat(cid, { maxBytes: 4096 })).rejects.toMatchObject({ code: 'TOO_LARGE' });
    const atRefusal = fetched.count;
    await sleep(500);
    // Before, the exporter's walk went on in the background: all 273 blocks, over the mesh.
    expect(fetched.count).toBe(atRefusal);
    expect(fetched.count).toBeLessThan(50);
  });

  it('catToFile stops fetching the rest of a file it refused as too large', async () => {
    const { cid, here, fetched } = await deepFileElsewhere();
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-files-'));
    try {
      const reading = here.catToFile(cid, join(dir, 'out'), { maxBytes: 4096 });
      await expect(reading).rejects.toMatchObject({ code: 'TOO_LARGE' });
      const atRefusal = fetched.count;
      await sleep(500);
      expect(fetched.count).toBe(atRefusal);
      expect(fetched.count).toBeLessThan(50);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('still reads such a file whole when it fits, 8 blocks a level at a time', async () => {
    const { cid, here, fetched } = await deepFileElsewhere();
    const bytes = await here.cat(cid, { maxBytes: 256 * 1024 });
    expect(bytes.byteLength).toBe(256 * 1024);
    expect(bytes[1024 * 37]).toBe(37);
    // 8 nodes and 8 of their children. Before, every child of a node at once: 31 here, and
    // 1,024 blocks of 1 MiB for a file of 1 MiB chunks.
    expect(fetched.mostInFlight).toBeLessThanOrEqual(16);
  });
});

describe('reading a file whose DAG reads one block over and over', () => {
  it('refuses a file that takes far more block reads than its bytes need', async () => {
    // 250,000 links to one 1-byte block, in 176 KB of blocks: a small DAG that makes a reader
    // read a block per byte (up to 64 million times for a 64 MiB cap).
    const store = createMemoryStore();
    const one = new Uint8Array([42]);
    const leaf = { cid: cidOf(RAW, one), size: 1 };
    await store.putBlock(leaf.cid, one);
    const mid = await fileNode(store, Array(500).fill(leaf));
    const root = await fileNode(store, Array(500).fill(mid));
    let reads = 0;
    const get = store.getBlock;
    store.getBlock = (c, o) => {
      reads += 1;
      return get(c, o);
    };
    // Before, it read the block 250,000 times and gave the 250,000 bytes.
    await expect(store.cat(root.cid, { maxBytes: 64 * 1024 * 1024 })).rejects.toMatchObject({
      code: 'TOO_LARGE',
    });
    expect(reads).toBeLessThan(5_000);
  });
});

/**
 * Runs `read` and collects the promise rejections nobody handled meanwhile (and for a moment
 * after): in a node, one of them ends the process.
 */
async function unhandledDuring(read: () => Promise<unknown>): Promise<unknown[]> {
  const unhandled: unknown[] = [];
  const on = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', on);
  try {
    await read().catch(() => {});
    await sleep(200);
  } finally {
    process.off('unhandledRejection', on);
  }
  return unhandled;
}

describe('an error below the first level of a file', () => {
  it('reaches the reader, and nothing is left unhandled, when a block is nowhere', async () => {
    const { cid, here } = await deepFileElsewhere();
    // A leaf under one of the 16 middle nodes is gone: no peer has it.
    const root = dagPb.decode(await here.getBlock(cid));
    const mid = dagPb.decode(await here.getBlock(root.Links[3]?.Hash as CID));
    const gone = mid.Links[5]?.Hash as CID;
    // A node that reads the file from `here`, which has every block but that one.
    const store = createMemoryStore();
    store.addFetcher({
      name: 'peer-without-one',
      fetch: async (c, { signal }) => {
        if (c.equals(gone)) throw new Error('nobody has it');
        return here.getBlock(c, { signal });
      },
    });
    let error: unknown;
    const unhandled = await unhandledDuring(() =>
      store.cat(cid, { maxBytes: 1024 * 1024 }).catch((err: unknown) => {
        error = err;
      }),
    );
    expect(error).toMatchObject({ code: 'NOT_FOUND' });
    expect(unhandled).toEqual([]);
  });

  it('reaches the reader when a node below is no UnixFS, and nothing is left unhandled', async () => {
    const store = createMemoryStore();
    const leafBytes = new Uint8Array(1024).fill(7);
    const leaf = { cid: cidOf(RAW, leafBytes), size: 1024 };
    await store.putBlock(leaf.cid, leafBytes);
    const good = await fileNode(store, [leaf, leaf]);
    // A dag-pb node with links but no UnixFS data, where a file node should be.
    const badBytes = dagPb.encode(dagPb.prepare({ Links: [{ Hash: leaf.cid, Tsize: 1024 }] }));
    const bad = { cid: cidOf(DAG_PB, badBytes), size: 1024 };
    await store.putBlock(bad.cid, badBytes);
    const root = await fileNode(store, [good, bad]);
    let error: unknown;
    const unhandled = await unhandledDuring(() =>
      store.cat(root.cid, { maxBytes: 1024 * 1024 }).catch((err: unknown) => {
        error = err;
      }),
    );
    expect(error).toMatchObject({ code: 'BAD_INPUT' });
    expect(String((error as Error).message)).toContain('has no UnixFS data');
    expect(unhandled).toEqual([]);
  });

  it('leaves nothing unhandled when a file is refused as too large mid-walk', async () => {
    const { cid, here } = await deepFileElsewhere();
    const unhandled = await unhandledDuring(() => here.cat(cid, { maxBytes: 4096 }));
    expect(unhandled).toEqual([]);
  });
});
