import { join } from 'node:path';
import type { Helia } from '@helia/interface';
import * as dagJson from '@ipld/dag-json';
import { FsBlockstore } from 'blockstore-fs';
import { MemoryDatastore } from 'datastore-core';
import { createHeliaLight } from 'helia';
import { addNetwork, type Network } from './network.ts';

/** A started helia node over the on-disk block store. */
export interface Node {
  helia: Helia;
  blocks: FsBlockstore;
  network?: Network;
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
  const blocks = new FsBlockstore(join(init.dir, 'blocks'));
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
    return { helia, blocks, network };
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
