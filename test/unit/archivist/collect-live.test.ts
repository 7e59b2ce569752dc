/**
 * Garbage collection beside a running node: the node keeps reading and changing its GOHOs
 * while the collection runs, and loses nothing; a collection stopped half-way leaves every
 * head whose root is still stored readable whole.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CID } from 'multiformats/cid';
import { describe, expect, it } from 'vitest';
import { Archivist } from '../../../src/archivist/archivist.ts';
import { GcBarrier } from '../../../src/archivist/barrier.ts';
import { gohoKind } from '../../../src/archivist/mark.ts';
import { DEFAULT_ARCHIVIST } from '../../../src/archivist/types.ts';
import type { UserId } from '../../../src/ids.ts';
import { createGoho, type Goho, openGoho } from '../../../src/lattice/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { MeshClient } from '../../../src/matrix/types.ts';
import { HeadsFile } from '../../../src/node/heads-file.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';
import type { Store } from '../../../src/store/types.ts';
import { leaves, readable } from '../../support/goho-read.ts';

interface Live {
  mem: ReturnType<typeof createMemoryStore>;
  /** The store as the node uses it: through the barrier. */
  node: Store;
  archivist: Archivist;
  goho: Goho;
  /** Heads in order: 200 leaves, then 10 more each. */
  heads: CID[];
}

/**
 * A node with a GOHO in three versions, the newest pinned. `onDelete` runs before each
 * deletion the collector makes (the node acting meanwhile).
 */
async function live(onDelete: (n: number) => void = () => {}): Promise<Live> {
  const mem = createMemoryStore();
  let deletions = 0;
  const raw: Store = {
    ...mem,
    deleteBlock: async (cid, o) => {
      onDelete(++deletions);
      await mem.deleteBlock(cid, o);
    },
  };
  const barrier = new GcBarrier(raw);
  const node = barrier.guard(raw);
  const pins = new HeadsFile(join(await mkdtemp(join(tmpdir(), 'meshbot-pins-')), 'pins.json'));
  const archivist = new Archivist({
    store: node,
    client: {} as MeshClient,
    log: silentLogger,
    self: '@node:h' as UserId,
    pins,
    isNode: () => true,
    options: { ...DEFAULT_ARCHIVIST, owner: '@alice:h' as UserId },
    barrier,
  });
  const goho = await createGoho(node, { name: 'live' });
  const heads: CID[] = [];
  for (const [from, n] of [
    [0, 200],
    [200, 10],
    [210, 10],
  ] as const) {
    heads.push(await goho.appendAll(leaves(from, n)));
    await archivist.pin(goho.head(), goho.origin());
  }
  return { mem, node, archivist, goho, heads };
}

describe('garbage collection beside a running node', () => {
  it('keeps an old version whole while the node reads it, and takes it the next time', async () => {
    let reading: Promise<number> | undefined;
    const n = await live((count) => {
      // The first deletion is a head root (roots go first): the node starts reading the
      // oldest version, looking for its root first (as the Evaluator's view of results does).
      if (count !== 1) return;
      const oldest = n.heads[0] as CID;
      reading = n.node
        .hasBlock(oldest)
        .then((here) => (here ? readable(n.node, n.goho.origin(), oldest) : -1));
    });
    const first = await n.archivist.collectGarbage([]);
    expect(await reading).toBe(200);
    expect(first.inUse).toBeGreaterThan(0);
    expect(await readable(n.mem, n.goho.origin(), n.heads[0] as CID)).toBe(200);
    expect(await readable(n.mem, n.goho.origin(), n.heads[2] as CID)).toBe(220);

    const second = await n.archivist.collectGarbage([]);
    expect(second.deleted).toBeGreaterThan(0);
    expect(await n.mem.hasBlock(n.heads[0] as CID)).toBe(false);
    expect(await readable(n.mem, n.goho.origin(), n.heads[2] as CID)).toBe(220);
  });

  it('keeps what a change made after the kept heads were read', async () => {
    const n = await live();
    const result = await n.archivist.collectGarbage(async () => {
      // The node appends between the moment its heads are read and the sweep.
      await n.goho.appendAll(leaves(1000, 5));
      return [];
    });
    expect(result.deleted).toBeGreaterThan(0);
    expect(await readable(n.mem, n.goho.origin(), n.goho.head())).toBe(225);
  });

  it('leaves every head whose root is still stored readable whole, wherever it was stopped', async () => {
    const total = (await (await live()).archivist.collectGarbage([])).deleted;
    expect(total).toBeGreaterThan(3);
    for (let stopAt = 1; stopAt <= total; stopAt++) {
      const abort = new AbortController();
      const n = await live((count) => {
        if (count === stopAt) abort.abort(new Error('node stopping'));
      });
      const collecting = n.archivist.collectGarbage([], { signal: abort.signal });
      // Stopped at its last deletion, it has nothing left to stop.
      if (stopAt < total) await expect(collecting).rejects.toThrow('node stopping');
      else expect((await collecting).deleted).toBe(total);
      for (const { cid, bytes } of n.mem.held.values()) {
        if (gohoKind(bytes) !== 'root') continue;
        await expect(readable(n.mem, n.goho.origin(), cid), `stopped at ${stopAt}`).resolves.toBe(
          (await openGoho(n.mem, n.goho.origin(), cid)).size(),
        );
      }
    }
  });

  it('is stopped at once while it waits for a pin still fetching', async () => {
    // A pin of a head whose blocks only a peer has, and the peer never answers.
    let answer = () => {};
    const store = createMemoryStore({ fetchBudgetMs: 60_000 });
    store.addFetcher({
      name: 'silent peer',
      fetch: () =>
        new Promise((_, reject) => {
          answer = () => reject(new Error('gone'));
        }),
    });
    const elsewhere = await createGoho(createMemoryStore(), { name: 'fetched' });
    await elsewhere.appendAll(leaves(0, 3));
    const pins = new HeadsFile(join(await mkdtemp(join(tmpdir(), 'meshbot-pins-')), 'pins.json'));
    const archivist = new Archivist({
      store,
      client: {} as MeshClient,
      log: silentLogger,
      self: '@node:h' as UserId,
      pins,
      isNode: () => true,
      options: { ...DEFAULT_ARCHIVIST, owner: '@alice:h' as UserId, pinTimeoutMs: 60_000 },
    });
    archivist.headChanged('!r:h' as never, elsewhere);
    const abort = new AbortController();
    const collecting = archivist.collectGarbage([], { signal: abort.signal });
    setTimeout(() => abort.abort(new Error('node stopping')), 50);
    const began = Date.now();
    await expect(collecting).rejects.toThrow('node stopping');
    expect(Date.now() - began).toBeLessThan(5_000);
    archivist.stop();
    answer();
  });
});
