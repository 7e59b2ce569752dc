import { type FileHandle, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Helia } from '@helia/interface';
import * as dagJson from '@ipld/dag-json';
import { FsBlockstore } from 'blockstore-fs';
import { NextToLast } from 'blockstore-fs/sharding';
import { MemoryDatastore } from 'datastore-core';
import { createHeliaLight } from 'helia';
import type { CID } from 'multiformats/cid';
import { addNetwork, type Network } from './network.ts';

/** A started helia node over the on-disk block store. */
export interface Node {
  helia: Helia;
  blocks: FsBlockstore;
  network?: Network;
  /** A stored block's bytes in one read, or undefined when it is not stored. */
  readLocal(cid: CID, signal?: AbortSignal): Promise<Uint8Array | undefined>;
  /** Up to the first `n` bytes of a stored block, or undefined when it is not stored. */
  peekLocal(cid: CID, n: number): Promise<Uint8Array | undefined>;
}

export interface NodeInit {
  dir: string;
  listen: string[];
  bitswapBudgetMs: number;
}

/**
 * Starts helia on `dir/blocks`. Blocks are all that must survive a restart; helia's
 * datastore (pins, the libp2p key) stays in memory, so the peer id changes per start.
 * A failed start closes what it opened.
 */
export async function openNode(init: NodeInit): Promise<Node> {
  const path = join(init.dir, 'blocks');
  const sharding = new NextToLast();
  const blocks = new FsBlockstore(path, { shardingStrategy: sharding });
  // FsBlockstore streams every read; GOHO blocks are small and read by the thousand.
  const readLocal = async (cid: CID, signal?: AbortSignal) => {
    const { dir, file } = sharding.encode(cid);
    try {
      return new Uint8Array(await readFile(join(path, dir, file), { signal }));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  };
  const peekLocal = async (cid: CID, n: number) => {
    const { dir, file } = sharding.encode(cid);
    let handle: FileHandle;
    try {
      handle = await open(join(path, dir, file), 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    try {
      const head = new Uint8Array(n);
      const { bytesRead } = await handle.read(head, 0, n, 0);
      return head.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  };
  await blocks.open();
  let helia: Helia | undefined;
  try {
    helia = createHeliaLight({
      blockstore: blocks,
      datastore: new MemoryDatastore(),
      codecs: [dagJson],
    });
    const network =
      init.listen.length > 0 ? addNetwork(helia, init.listen, init.bitswapBudgetMs) : undefined;
    await helia.start();
    return { helia, blocks, network, readLocal, peekLocal };
  } catch (err) {
    await helia?.stop().catch(() => {});
    await blocks.close();
    throw err;
  }
}

export async function closeNode(node: Node): Promise<void> {
  try {
    await node.helia.stop();
  } finally {
    await node.blocks.close();
  }
}
