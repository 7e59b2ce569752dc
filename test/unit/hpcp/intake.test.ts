/**
 * What an announcement's attached blocks leave in the store: the blocks its heads reach,
 * inline or in its CAR file, and nothing else.
 */
import { describe, expect, it } from 'vitest';
import { encodeInline } from '../../../src/blocks/codec.ts';
import { takeCar, takeInline } from '../../../src/hpcp/intake.ts';
import { toCar } from '../../../src/hpcp/outbox.ts';
import { DEFAULT_HPCP, type RoomHpcpDeps } from '../../../src/hpcp/types.ts';
import type { UserId } from '../../../src/ids.ts';
import { createGoho } from '../../../src/lattice/index.ts';
import type { Logger } from '../../../src/log/logger.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { MeshClient } from '../../../src/matrix/types.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';
import { leaves } from '../../support/goho-read.ts';

/** A peer's GOHO with some leaves, its blocks, and a block no head reaches. */
async function announcement() {
  const peer = createMemoryStore();
  const goho = await createGoho(peer, { name: 'announced' });
  await goho.appendAll(leaves(0, 40));
  const blocks = await Promise.all(
    (await peer.collect(goho.head())).map(async (cid) => ({
      cid,
      bytes: await peer.getBlock(cid),
    })),
  );
  // Root, trie nodes and the 40 leaves: links the walk must follow.
  expect(blocks.length).toBeGreaterThan(40);
  const junkCid = await peer.putDag({ junk: 'x'.repeat(1000) });
  const junk = { cid: junkCid, bytes: await peer.getBlock(junkCid) };
  return { goho, blocks, junk };
}

function deps(car?: Uint8Array) {
  const store = createMemoryStore();
  const warnings: string[] = [];
  const log = { ...silentLogger, warn: (msg: string) => warnings.push(msg) } as Logger;
  const client = { download: async () => car } as unknown as MeshClient;
  const d = { store, log, client, self: '@a:h' as UserId, options: DEFAULT_HPCP };
  return { d: d as unknown as RoomHpcpDeps, store, warnings };
}

describe("an announcement's attached blocks", () => {
  it('are stored inline when the heads reach them, and a block they do not reach is dropped', async () => {
    const { goho, blocks, junk } = await announcement();
    const { d, store, warnings } = deps();
    const inline = [...blocks, junk].map((b) => encodeInline(b.cid, b.bytes));
    await takeInline(d, inline, [goho.head()]);
    for (const b of blocks) expect(await store.hasBlock(b.cid)).toBe(true);
    expect(await store.hasBlock(junk.cid)).toBe(false);
    expect(warnings).toContain('announced blocks the heads do not reach dropped');
  });

  it('are stored from the CAR file the same way', async () => {
    const { goho, blocks, junk } = await announcement();
    const { d, store } = deps(await toCar([...blocks, junk]));
    await takeCar(d, 'mxc://h/car', [goho.head()]);
    for (const b of blocks) expect(await store.hasBlock(b.cid)).toBe(true);
    expect(await store.hasBlock(junk.cid)).toBe(false);
  });

  it('are not followed through a block whose bytes do not match its CID', async () => {
    const { goho, blocks } = await announcement();
    const { d, store } = deps();
    const [root, ...rest] = blocks;
    if (!root) throw new Error('the GOHO has no blocks');
    const lying = { cid: root.cid, bytes: new TextEncoder().encode('{}') };
    await takeInline(
      d,
      [lying, ...rest].map((b) => encodeInline(b.cid, b.bytes)),
      [goho.head()],
    );
    for (const b of blocks) expect(await store.hasBlock(b.cid)).toBe(false);
  });
});
