/**
 * A merge of an announced head may run for minutes (leaves fetched one by one). When a
 * collection starts meanwhile, the trie nodes the merge read before it started were never
 * noted by the barrier, and once the peer has announced a newer head the one being merged is
 * not a head the collection keeps: what the merge read must still stay, for the head it commits
 * links to it.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CID } from 'multiformats/cid';
import { afterEach, describe, expect, it } from 'vitest';
import { Archivist } from '../../../src/archivist/archivist.ts';
import { GcBarrier } from '../../../src/archivist/barrier.ts';
import { DEFAULT_ARCHIVIST } from '../../../src/archivist/types.ts';
import type { EventId, RoomId, UserId } from '../../../src/ids.ts';
import { createGoho, type LeafInput } from '../../../src/lattice/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { MeshClient } from '../../../src/matrix/types.ts';
import { HeadsFile } from '../../../src/node/heads-file.ts';
import { Ledgers } from '../../../src/node/ledgers.ts';
import { HPCP_EVENT } from '../../../src/protocol/hpcp.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';
import { missing } from '../../support/goho-read.ts';

const ROOM = '!gc:hs' as RoomId;
const ME = '@me:hs' as UserId;
const PEER = '@peer:hs' as UserId;
const stops: (() => void)[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s();
});

const leaves = (from: number, n: number): LeafInput[] =>
  Array.from({ length: n }, (_, i) => ({
    path: `results/${from + i}`,
    action: 'set' as const,
    value: from + i,
    author: PEER,
  }));

let seq = 0;
const announce = (origin: CID, head: CID, size: number) => ({
  type: HPCP_EVENT.heads,
  event_id: `$e${++seq}` as EventId,
  sender: PEER,
  origin_server_ts: Date.now(),
  content: {
    heads: [{ origin: origin.toString(), head: head.toString(), size }],
    blocks: [],
    addrs: [],
    reason: 'change',
  },
});

/**
 * A node merges the peer's head p1 (600 leaves) while a collection runs: the merge reads p1's
 * trie, then waits for its leaves; meanwhile the peer announces p2 (one leaf more) and the
 * collection starts. `own`: leaves this node had before. `attached`: p2's announcement carries
 * its new blocks. Returns the blocks of this node's final head it lacks once the peer is gone.
 */
async function mergeDuringCollection(own: number, attached: boolean): Promise<string[]> {
  const peer = createMemoryStore();
  const replica = await createGoho(peer, { name: `meshbot/results/${ROOM}` });
  const p1 = await replica.appendAll(leaves(0, 600));

  // This node fetches from the peer; leaves come slowly (released by the test).
  const raw = createMemoryStore({ fetchBudgetMs: 20_000 });
  let peerUp = true;
  let release = () => {};
  const leavesMayCome = new Promise<void>((r) => {
    release = r;
  });
  let leafAsked = () => {};
  const firstLeafAsked = new Promise<void>((r) => {
    leafAsked = r;
  });
  raw.addFetcher({
    name: 'peer',
    fetch: async (cid) => {
      if (!peerUp) throw new Error('peer gone');
      const bytes = await peer.getBlock(cid, { offline: true });
      if (new TextDecoder().decode(bytes).includes('"path"')) {
        leafAsked();
        await leavesMayCome;
      }
      return bytes;
    },
  });
  const barrier = new GcBarrier(raw);
  const store = barrier.guard(raw);
  const dir = await mkdtemp(join(tmpdir(), 'meshbot-gc-merging-'));
  const client = { send: async () => '$sent' } as unknown as MeshClient;
  // This node archives nothing (archive.enabled false): no pin fetches the head again.
  const archivist = new Archivist({
    store,
    client,
    log: silentLogger,
    self: ME,
    pins: new HeadsFile(join(dir, 'archive.json')),
    isNode: () => true,
    options: { ...DEFAULT_ARCHIVIST, enabled: false, owner: '@owner:hs' as UserId },
    barrier,
  });
  const ledgers = new Ledgers({
    store,
    client,
    heads: new HeadsFile(join(dir, 'heads.json')),
    log: silentLogger,
    self: ME,
    mesh: { isNode: () => true, nodes: () => [ME, PEER] },
    hpcp: { announceDelayMs: 60_000, mergeDelayMs: 60_000 },
    archivist,
  });
  const ledger = await ledgers.open(ROOM);
  stops.push(() => {
    ledger.hpcp.stop();
    archivist.stop();
  });
  const results = ledger.resultsGoho;
  if (own > 0) {
    await ledger.append(
      results,
      leaves(10_000, own).map((l) => ({ ...l, author: ME })),
    );
  }

  // The peer announces p1: the merge reads its trie, then waits for its leaves.
  await ledgers.onEvent(ROOM, announce(results.origin(), p1, 600));
  await firstLeafAsked;
  // The peer moves on and says so.
  const p2 = await replica.appendAll(leaves(600, 1));
  if (attached) {
    for (const cid of (await replica.since(p1)).blocks) {
      await store.putBlock(cid, await peer.getBlock(cid));
    }
  }
  await ledgers.onEvent(ROOM, announce(results.origin(), p2, 601));

  expect(await ledgers.collectGarbage()).not.toBeNull();
  release();
  await ledger.settled();
  // Both merges are done: this node's head holds every leaf of the peer's.
  expect(results.size()).toBe(601 + own);
  peerUp = false;
  return missing(raw, results.head());
}

describe('garbage collection beside a merge under way', () => {
  it("keeps the peer's blocks a merge read before the collection began", async () => {
    expect(await mergeDuringCollection(0, false)).toEqual([]);
  });

  it('keeps the trie nodes a merge wrote before the collection began', async () => {
    // The usual case: this node has leaves of its own, so the merge writes new trie nodes;
    // the peer's newer head comes with its blocks, and keeps what it shares with p1.
    expect(await mergeDuringCollection(100, true)).toEqual([]);
  });
});
