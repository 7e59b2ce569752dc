/**
 * How a worker takes its own outcome into its book: at once when the event surely went out
 * while its assignment held, else only from the room's echo (in the room's order). The
 * WorkerRole is real, over a fake room; its runtime and ledgers are fakes behind their
 * interfaces, and the room's send can be slowed past the assignment's deadline.
 */
import { describe, expect, it } from 'vitest';
import type { Runner } from '../../../src/engines/runner.ts';
import type { EnginePackage, RunRequest } from '../../../src/engines/types.ts';
import { applyBookEvent, applyReply } from '../../../src/node/book-events.ts';
import type { Ledgers } from '../../../src/node/ledgers.ts';
import { takeOwnReports } from '../../../src/node/own-reports.ts';
import { WorkerRole } from '../../../src/node/worker-role.ts';
import { EVENT } from '../../../src/protocol/events.ts';
import { type FakeRoom, fakeRoom, runningTask } from '../../support/fake-room.ts';

const ME = '@me:hs';
const COORDINATOR = '@coord:hs';
/** Half of it is how long a fresh assignment surely holds before its first renewal. */
const LEASE_MS = 400;

async function setUp(): Promise<{ f: FakeRoom; worker: WorkerRole; slowSends: () => void }> {
  const f = await fakeRoom({ self: ME, nodes: { [COORDINATOR]: { owner: '@b:hs' } } });
  f.lease(COORDINATOR, 1);
  f.ctx.config.mesh.assignmentLeaseMs = LEASE_MS;
  const runtime: Partial<Runner> = {
    download: async (ref) => ({ manifest: { name: ref.name } }) as unknown as EnginePackage,
    run: async (req: RunRequest) => ({ output: req.input, cpuMs: 1 }) as never,
  };
  const ledger = { complete: async () => {}, append: async () => {} };
  f.ctx.runtime = runtime as Runner;
  f.ctx.ledgers = { get: () => ledger } as unknown as Ledgers;
  // Sends that take longer than the half lease a fresh assignment is sure of.
  const send = f.ctx.client.send.bind(f.ctx.client);
  const slowSends = () => {
    f.ctx.client.send = (async (...args: Parameters<typeof send>) => {
      await new Promise((r) => setTimeout(r, LEASE_MS));
      return send(...args);
    }) as typeof send;
  };
  const worker = new WorkerRole(f.ctx, (room, reports) =>
    takeOwnReports(room.book, ME, reports, f.ctx.config.mesh, Date.now()),
  );
  return { f, worker, slowSends };
}

/** Gives this node the task `runningTask` put in the book, as the coordinator's event would. */
function take(f: FakeRoom, worker: WorkerRole, id: string, report?: true): void {
  const block = f.room.book.get(id)?.block as string;
  worker.take(f.room, { task: id, worker: ME, attempt: 1, block, ...(report ? { report } : {}) });
}

describe("a worker's own outcome", () => {
  it('answered in time: its book has the result at once', async () => {
    const { f, worker } = await setUp();
    const id = await runningTask(f);
    take(f, worker, id);
    await worker.idle();
    expect(f.sent.map((s) => s.type)).toEqual(['m.room.message']);
    expect(f.room.book.get(id)).toMatchObject({ state: 'done', answered: true, worker: ME });
  });

  it("answered after the assignment could have run out: the room's echo counts, not the send", async () => {
    const { f, worker, slowSends } = await setUp();
    const id = await runningTask(f);
    slowSends();
    take(f, worker, id);
    await worker.idle();
    const reply = f.sent.find((s) => s.type === 'm.room.message');
    expect(reply).toBeDefined();
    // Not final in its own book yet: another node's run may come first in the room.
    expect(f.room.book.get(id)?.state).toBe('assigned');
    expect(f.room.book.get(id)?.answered).toBeFalsy();
    // The echo of its own reply, in the room's order, is what finishes it.
    const content = {
      ...reply?.content,
      'm.relates_to': { 'm.in_reply_to': { event_id: '$run' } },
    };
    applyReply(f.ctx, f.room, f.event(ME, 'm.room.message', content));
    expect(f.room.book.get(id)).toMatchObject({ state: 'done', answered: true, worker: ME });
  });

  it('reported to the coordinator in time: its book has the completion at once', async () => {
    const { f, worker } = await setUp();
    const id = await runningTask(f);
    take(f, worker, id, true);
    await worker.idle();
    expect(f.sent.map((s) => s.type)).toEqual([EVENT.complete]);
    expect(f.room.book.get(id)).toMatchObject({ state: 'done', worker: ME });
  });

  it("reported after the assignment could have run out: the room's echo counts", async () => {
    const { f, worker, slowSends } = await setUp();
    const id = await runningTask(f);
    slowSends();
    take(f, worker, id, true);
    await worker.idle();
    const complete = f.sent.find((s) => s.type === EVENT.complete);
    expect(complete).toBeDefined();
    expect(f.room.book.get(id)?.state).toBe('assigned');
    await applyBookEvent(f.ctx, f.room, f.event(ME, EVENT.complete, complete?.content ?? {}));
    expect(f.room.book.get(id)).toMatchObject({ state: 'done', worker: ME });
  });

  it('is dropped, not waited for, when the node stops while it runs', async () => {
    const { f, worker } = await setUp();
    const stop = new AbortController();
    f.ctx.signal = stop.signal;
    let release = () => {};
    const running = new Promise<void>((r) => {
      release = r;
    });
    const run = f.ctx.runtime.run.bind(f.ctx.runtime);
    f.ctx.runtime.run = async (req) => {
      await running;
      return run(req);
    };
    const id = await runningTask(f);
    take(f, worker, id, true);
    await new Promise((r) => setTimeout(r, 50));
    stop.abort(new Error('node stopping'));
    release();
    const hung = new Promise((r) => setTimeout(() => r('hung'), 3_000));
    expect(await Promise.race([worker.idle().then(() => 'idle'), hung])).toBe('idle');
  });
});
