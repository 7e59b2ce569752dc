import { CID } from 'multiformats/cid';
import { describe, expect, it } from 'vitest';
import { headsContent } from '../../../src/hpcp/outbox.ts';
import { DEFAULT_HPCP, type RoomHpcpDeps } from '../../../src/hpcp/types.ts';
import type { UserId } from '../../../src/ids.ts';
import { createGoho } from '../../../src/lattice/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { MeshClient } from '../../../src/matrix/types.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';

describe('a heads announcement', () => {
  it('is built from local blocks only, whatever head `prev` names', async () => {
    let fetches = 0;
    const store = createMemoryStore({ fetchBudgetMs: 2_000 });
    // Nobody answers: the tree of a head its announcer never serves.
    store.addFetcher({
      name: 'room',
      fetch: (_cid, { signal }) => {
        fetches++;
        return new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(signal.reason)),
        );
      },
    });
    const goho = await createGoho(store, { name: 'queue' });
    await goho.append({ path: 'p', action: 'append', value: 1, author: '@a:h' });
    // A peer's announced root, stored from the event's inline blocks; its tree is not here.
    const missingTree = CID.parse('baguqeeraavn3bw3z3gokdagahqhlj4trdqd5yq57ohpzl2dxrk7ndvoz4pnq');
    const prev = await store.putDag({
      type: 'goho',
      version: 2,
      origin: goho.origin(),
      size: 1,
      clock: 1,
      tree: missingTree,
    });
    const d = {
      client: {} as MeshClient,
      store,
      log: silentLogger,
      self: '@me:h' as UserId,
      gohos: new Map([[goho.origin().toString(), goho]]),
      options: DEFAULT_HPCP,
    } as unknown as RoomHpcpDeps;
    const started = Date.now();
    const content = await headsContent(d, [{ goho, prev }], 'merge');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(fetches).toBe(0);
    // Announced without a base: peers get the root and fetch what they lack.
    expect(content.heads).toEqual([
      { origin: goho.origin().toString(), head: goho.head().toString(), size: 1 },
    ]);
    expect(content.blocks?.map((b) => b.cid)).toEqual([goho.head().toString()]);
  });

  it('counts its blocks from `prev` when this node holds it', async () => {
    const store = createMemoryStore();
    const goho = await createGoho(store, { name: 'queue' });
    const prev = await goho.append({ path: 'p', action: 'append', value: 1, author: '@a:h' });
    await goho.append({ path: 'p', action: 'append', value: 2, author: '@a:h' });
    const d = { store, options: DEFAULT_HPCP } as unknown as RoomHpcpDeps;
    const content = await headsContent(d, [{ goho, prev }], 'change');
    expect(content.heads[0]?.prev).toBe(prev.toString());
    expect(content.blocks?.[0]?.cid).toBe(goho.head().toString());
  });
});
