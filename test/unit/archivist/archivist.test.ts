/**
 * The Archivist keeps the newest version of a GOHO and lets the previous go; garbage
 * collection removes what no pin and no announced head reaches, and nothing that is not
 * a GOHO block.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Archivist } from '../../../src/archivist/archivist.ts';
import { DEFAULT_ARCHIVIST } from '../../../src/archivist/types.ts';
import type { UserId } from '../../../src/ids.ts';
import { createGoho, type LeafInput, openGoho } from '../../../src/lattice/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { MeshClient } from '../../../src/matrix/types.ts';
import { HeadsFile } from '../../../src/node/heads-file.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';
import { leaves, readable } from '../../support/goho-read.ts';

/** An Archivist of `@node:h`, run by `@alice:h`, over `store`, with a pins file of its own. */
async function archivistOn(
  store: ReturnType<typeof createMemoryStore>,
  options: Partial<typeof DEFAULT_ARCHIVIST> = {},
  isNode: (room: string, user: string) => boolean = () => true,
): Promise<Archivist> {
  const pins = new HeadsFile(join(await mkdtemp(join(tmpdir(), 'meshbot-pins-')), 'pins.json'));
  return new Archivist({
    store,
    client: {} as MeshClient,
    log: silentLogger,
    self: '@node:h' as UserId,
    pins,
    isNode,
    options: { ...DEFAULT_ARCHIVIST, ...options, owner: '@alice:h' as UserId },
  });
}

describe('the Archivist', () => {
  it('pins the newest head, and GC keeps pinned and announced heads but not old versions', async () => {
    const store = createMemoryStore();
    const archivist = await archivistOn(store);
    const g = await createGoho(store, { name: 'archived' });
    const origin = g.origin();
    await g.appendAll(leaves(0, 200));
    const first = g.head();
    await archivist.pin(first, origin);
    await g.appendAll(leaves(200, 50));
    const second = g.head();
    await archivist.pin(second, origin);
    expect(archivist.pinned(origin)?.equals(second)).toBe(true);
    // A peer's head, branched from the first version and still announced.
    const peer = await openGoho(store, origin, first);
    await peer.appendAll(leaves(1000, 30));
    const announced = peer.head();
    const file = await store.addBytes(new TextEncoder().encode('not a GOHO block'));
    const task = await store.putDag({ type: 'task', input: file });

    const result = await archivist.collectGarbage([announced]);
    expect(result.deleted).toBeGreaterThan(0);
    expect(await readable(store, origin, second)).toBe(250);
    expect(await readable(store, origin, announced)).toBe(230);
    expect(await store.hasBlock(first)).toBe(false);
    expect(await store.hasBlock(file)).toBe(true);
    expect(await store.hasBlock(task)).toBe(true);
    expect(await store.hasBlock(origin)).toBe(true);

    // Once nobody announces the peer's head, its own blocks can go too.
    const again = await archivist.collectGarbage([]);
    expect(again.deleted).toBeGreaterThan(0);
    expect(await store.hasBlock(announced)).toBe(false);
    expect(await readable(store, origin, second)).toBe(250);
  });

  it('counts the owners that hold a head', async () => {
    const store = createMemoryStore();
    const archivist = await archivistOn(store, {}, (_room, user) => user !== '@stranger:h');
    const g = await createGoho(store, { name: 'owners' });
    await g.append(leaves(0, 1)[0] as LeafInput);
    await archivist.pin(g.head(), g.origin());
    const room = '!r:h' as never;
    const report = (sender: string, owner: string) =>
      archivist.onEvent(room, {
        type: 'org.meshbot.archive',
        sender: sender as UserId,
        event_id: '$e' as never,
        origin_server_ts: 0,
        content: { owner, pins: [{ origin: g.origin().toString(), head: g.head().toString() }] },
      });
    expect(archivist.owners(room, g.origin(), g.head())).toEqual(['@alice:h']);
    await report('@bot2:h', '@alice:h');
    expect(archivist.owners(room, g.origin(), g.head())).toEqual(['@alice:h']);
    await report('@stranger:h', '@mallory:h');
    expect(archivist.owners(room, g.origin(), g.head())).toEqual(['@alice:h']);
    await report('@bot3:h', '@bob:h');
    expect(archivist.owners(room, g.origin(), g.head())).toEqual(['@alice:h', '@bob:h']);
  });
  it("takes a node's report as its whole pin list: a later one replaces it", async () => {
    const store = createMemoryStore();
    const archivist = await archivistOn(store, { enabled: false });
    const g = await createGoho(store, { name: 'replaced' });
    await g.append(leaves(0, 1)[0] as LeafInput);
    const room = '!r:h' as never;
    const held = { origin: g.origin().toString(), head: g.head().toString() };
    const report = (pinList: { origin: string; head: string }[]) =>
      archivist.onEvent(room, {
        type: 'org.meshbot.archive',
        sender: '@bot2:h' as UserId,
        event_id: '$e' as never,
        origin_server_ts: 0,
        content: { owner: '@bob:h', pins: pinList },
      });
    await report([held]);
    expect(archivist.owners(room, g.origin(), g.head())).toEqual(['@bob:h']);
    // The node no longer pins the GOHO: it reports other origins only (a node flooding
    // reports with made-up origins is in the same case: each report drops the last).
    const other = await createGoho(store, { name: 'other' });
    await other.append(leaves(5, 1)[0] as LeafInput);
    await report([{ origin: other.origin().toString(), head: other.head().toString() }]);
    expect(archivist.owners(room, g.origin(), g.head())).toEqual([]);
    expect(archivist.owners(room, other.origin(), other.head())).toEqual(['@bob:h']);
  });
});
