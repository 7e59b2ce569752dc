/**
 * What a node's garbage collection keeps of its ledgers: current heads, and the blocks its
 * tasks name. A person may run an engine on an old version of the Results GOHO, or an engine
 * may answer with dag-json shaped like a GOHO leaf: while the book holds such a task, its
 * blocks stay.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Archivist } from '../../../src/archivist/archivist.ts';
import { DEFAULT_ARCHIVIST } from '../../../src/archivist/types.ts';
import type { UserId } from '../../../src/ids.ts';
import { type LeafInput, openGoho } from '../../../src/lattice/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { HeadsFile } from '../../../src/node/heads-file.ts';
import { Ledgers } from '../../../src/node/ledgers.ts';
import { taskBlocks } from '../../../src/node/task-blocks.ts';
import { HPCP_EVENT } from '../../../src/protocol/hpcp.ts';
import { fakeRoom, ROOM, runningTask } from '../../support/fake-room.ts';
import { offline } from '../../support/goho-read.ts';

const ME = '@me:hs';
const stops: (() => void)[] = [];
afterEach(() => {
  vi.useRealTimers();
  for (const s of stops.splice(0)) s();
});

const leaves = (from: number, n: number): LeafInput[] =>
  Array.from({ length: n }, (_, i) => ({
    path: `results/${from + i}`,
    action: 'set' as const,
    value: from + i,
    author: ME,
  }));

async function node() {
  const f = await fakeRoom({ self: ME });
  const store = f.ctx.store;
  const dir = await mkdtemp(join(tmpdir(), 'meshbot-gc-tasks-'));
  const archivist = new Archivist({
    store,
    client: f.ctx.client,
    log: silentLogger,
    self: ME as UserId,
    pins: new HeadsFile(join(dir, 'archive.json')),
    isNode: () => true,
    options: { ...DEFAULT_ARCHIVIST, owner: '@owner:hs' as UserId },
  });
  const ledgers = new Ledgers({
    store,
    client: f.ctx.client,
    heads: new HeadsFile(join(dir, 'heads.json')),
    log: silentLogger,
    self: ME as UserId,
    mesh: { isNode: () => true, nodes: () => [] },
    hpcp: { announceDelayMs: 60_000 },
    archivist,
  });
  const ledger = await ledgers.open(ROOM);
  stops.push(() => {
    ledger.hpcp.stop();
    archivist.stop();
  });
  return { f, store, archivist, ledgers, ledger };
}

describe("a node's garbage collection", () => {
  it('keeps the blocks of a pending task, and of an answered one the book still holds', async () => {
    const { f, store, archivist, ledgers, ledger } = await node();
    const results = ledger.resultsGoho;
    await ledger.append(results, leaves(0, 50));
    const older = results.head();
    await ledger.append(results, leaves(50, 50));
    const old = results.head();
    await ledger.append(results, leaves(100, 1));
    await archivist.idle();
    // A pending task runs an engine on the old version, whose root is GOHO-shaped.
    const pending = await runningTask(f, { input: old });
    // An answered one whose output happens to be shaped like a GOHO leaf.
    const leafLike = await store.putDag({
      path: 'p',
      action: 'set',
      value: 'engine output',
      clock: 1,
      author: 'someone',
    });
    const answered = await runningTask(f, { request: '$run2' });
    f.room.book.complete(
      ME,
      { task: answered, attempt: 1, ok: true, result: leafLike.toString() },
      3,
      Date.now(),
    );
    const protect = (o: { signal?: AbortSignal }) => taskBlocks(f.room.book.all(), store, o);

    const kept = await ledgers.collectGarbage({ protect });
    expect(kept?.deleted).toBeGreaterThan(0);
    expect(await store.hasBlock(older)).toBe(false);
    const oldVersion = await openGoho(offline(store), results.origin(), old);
    expect(await oldVersion.leaves()).toHaveLength(100);
    expect(await store.hasBlock(leafLike)).toBe(true);
    expect(await store.hasBlock(CID.parse(pending))).toBe(true);
    expect((await openGoho(offline(store), results.origin(), results.head())).size()).toBe(101);

    // Once no task names them, they go like any old version.
    const after = await ledgers.collectGarbage();
    expect(after?.deleted).toBeGreaterThan(0);
    expect(await store.hasBlock(old)).toBe(false);
    expect(await store.hasBlock(leafLike)).toBe(false);
    expect((await openGoho(offline(store), results.origin(), results.head())).size()).toBe(101);
  });

  it('keeps the head this node announced last, while a newer one waits to be announced', async () => {
    const { f, store, ledgers, ledger } = await node();
    vi.useFakeTimers();
    const results = ledger.resultsGoho;
    const announced = () => f.sent.filter((s) => s.type === HPCP_EVENT.heads).length;
    await ledger.append(results, leaves(0, 50));
    await vi.advanceTimersByTimeAsync(60_000);
    const older = results.head();
    await ledger.append(results, leaves(50, 50));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(announced()).toBe(2);
    const said = results.head();
    // Not announced yet: peers still fetch `said`, and the next announcement counts from it.
    await ledger.append(results, leaves(100, 50));

    expect((await ledgers.collectGarbage())?.deleted).toBeGreaterThan(0);
    expect(await store.hasBlock(older)).toBe(false);
    const saidVersion = await openGoho(offline(store), results.origin(), said);
    expect(await saidVersion.leaves()).toHaveLength(100);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(announced()).toBe(3);
    vi.useRealTimers();
  });

  it('keeps the head an announcement counts from while it waits to be sent', async () => {
    const { f, ledger } = await node();
    vi.useFakeTimers();
    // The homeserver holds the announcement back (a rate limit).
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    const client = f.ctx.client as { send: (...a: unknown[]) => Promise<unknown> };
    const send = client.send;
    client.send = async (...a: unknown[]) => {
      if (a[1] === HPCP_EVENT.heads) await held;
      return send(...a);
    };
    const results = ledger.resultsGoho;
    const before = results.head();
    await ledger.append(results, leaves(0, 50));
    await vi.advanceTimersByTimeAsync(60_000);
    // Its first announcement since the start: nothing was announced before, and the one
    // being sent attaches the blocks added since `before`.
    expect(ledger.hpcp.ownHeads().map(String)).toContain(before.toString());
    release();
    await vi.advanceTimersByTimeAsync(0);
    await vi.waitFor(() =>
      expect(ledger.hpcp.ownHeads().map(String)).toEqual([`${results.head()}`]),
    );
    vi.useRealTimers();
  });

  it('names the input, engine, result and block of every task in the book', async () => {
    const { f, store } = await node();
    const id = await runningTask(f);
    const rec = f.room.book.get(id);
    const task = (await store.getDag(CID.parse(id))) as { input: CID; engine: { cid: CID } };
    const named = (await taskBlocks([rec as never], store)).map(String);
    expect(named).toEqual(
      expect.arrayContaining([id, task.input.toString(), task.engine.cid.toString()]),
    );
    // Its block dropped (answered), the task is read from the store instead.
    const dropped = { ...(rec as object), block: undefined, result: 'not a cid' };
    expect((await taskBlocks([dropped as never], store)).map(String).sort()).toEqual(named.sort());
  });
});
