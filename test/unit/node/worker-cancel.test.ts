/**
 * `!cancel` stops the work, not only its answer: when a node's book takes a running task as
 * cancelled, whichever way the cancel came, the task's engine run gets its abort signal then,
 * and the run ends without a word to the room: no failure, no retry (the cancel has its own
 * answer). A whole MeshNode (fake-node.ts, echo-room.ts) runs the task in a runtime that stops
 * on its signal, as the isolated-vm and Docker runtimes do.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Runner } from '../../../src/engines/runner.ts';
import { EVENT } from '../../../src/protocol/events.ts';
import { MESH_EVENT } from '../../../src/protocol/manager.ts';
import { echoRoom } from '../../support/echo-room.ts';
import { announcedLoads, type FakeNode, fakeNode } from '../../support/fake-node.ts';
import { ROOM, runningTask } from '../../support/fake-room.ts';
import { type StoppableRun, stoppableRun, stoppableRuntime } from '../../support/stoppable-run.ts';

const ME = '@me:hs';
const COORDINATOR = '@coord:hs';
const OTHER = '@other:hs';
const ALICE = '@alice:hs';

afterEach(() => {
  vi.useRealTimers();
});

interface Running extends FakeNode {
  id: string;
  run: StoppableRun;
  /** The load the node announced last. */
  load(): number | undefined;
}

/** A node running a task Alice asked for (request `$run`), assigned by another node. */
async function runningHere(ignoresAbort = false): Promise<Running> {
  const n = await fakeNode({
    self: ME,
    members: [ALICE],
    nodes: { [COORDINATOR]: { owner: ALICE }, [OTHER]: { owner: ALICE } },
  });
  const { f } = n;
  f.ctx.config.mesh.heartbeatMs = 1_000;
  const run = stoppableRun({ ignoresAbort });
  stoppableRuntime(f, run);
  const loads = announcedLoads(f);
  await n.node.start();
  const lease = { holder: COORDINATOR, term: 1, leaseMs: 3_600_000, renewal: 0 };
  await n.deliver(COORDINATOR, MESH_EVENT.lease, lease, '');
  // A task and its block (`runningTask` books it in the fake's room, not the node's).
  const id = await runningTask(f);
  const block = f.room.book.get(id)?.block as string;
  const assignments = [{ task: id, worker: ME, attempt: 1, block }];
  await n.deliver(COORDINATOR, EVENT.assign, { term: 1, leaseMs: 30_000, assignments });
  await run.started;
  return { ...n, id, run, load: () => loads.at(-1) };
}

/** What the node sent from `from` on: completions, and messages to people. */
const reported = (n: FakeNode, from: number) =>
  n.f.sent.slice(from).filter((s) => s.type === EVENT.complete || s.type === 'm.room.message');

const failed = (n: FakeNode) => n.f.logs.some((l) => l.includes('task failed'));

describe('a running task that its node’s book takes as cancelled', () => {
  it.each([
    [
      'by the coordinator’s cancel event (`!cancel`)',
      (n: Running) =>
        n.deliver(COORDINATOR, MESH_EVENT.cancel, {
          term: 1,
          tasks: [n.id],
          reason: `cancelled by ${ALICE}`,
        }),
    ],
    [
      'by its submitter deleting the request',
      (n: Running) => n.deliver(ALICE, 'm.room.redaction', { redacts: '$run' }),
    ],
  ])('%s: its run is aborted, and nothing is reported or left pending', async (_, cancel) => {
    vi.useFakeTimers();
    const n = await runningHere();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(n.load()).toBe(1);
    const before = n.f.sent.length;

    await cancel(n);
    expect(n.run.signal()?.aborted).toBe(true);
    await n.node.idle();
    expect(n.node.tasksIn(ROOM).find((t) => t.id === n.id)?.state).toBe('cancelled');
    await vi.advanceTimersByTimeAsync(120_000);
    // No failure, no result, no renewal: the node holds nothing of it any more.
    expect(reported(n, before)).toEqual([]);
    expect(n.f.sent.slice(before).filter((s) => s.type === MESH_EVENT.renew)).toEqual([]);
    expect(n.load()).toBe(0);
    expect(failed(n)).toBe(false);
    expect(n.f.logs.some((l) => l.includes('run stopped: its task was cancelled'))).toBe(true);
  });

  it('a result that comes anyway is not taken: the task stays cancelled, unanswered', async () => {
    const n = await runningHere(true);
    const before = n.f.sent.length;
    const reason = `cancelled by ${ALICE}`;
    await n.deliver(COORDINATOR, MESH_EVENT.cancel, { term: 1, tasks: [n.id], reason });
    expect(n.run.signal()?.aborted).toBe(true);
    n.run.finish();
    await n.node.idle();
    expect(n.node.tasksIn(ROOM).find((t) => t.id === n.id)?.state).toBe('cancelled');
    // As before runs were stopped: the coordinator hears of it, and its book ignores it.
    const sent = reported(n, before);
    expect(sent.filter((s) => s.type === 'm.room.message')).toEqual([]);
    const completions = sent.flatMap((s) => s.content.completions as { ok: boolean }[]);
    expect(completions.map((c) => c.ok)).toEqual([true]);
    expect(failed(n)).toBe(false);
  });
});

describe('a running task that another node’s report settles', () => {
  /** The coordinator gave the task to OTHER too (it took this node for lost), and OTHER reports. */
  const reportedByOther = async (n: Running, report: Record<string, unknown>) => {
    const block = n.f.room.book.get(n.id)?.block as string;
    const assignments = [{ task: n.id, worker: OTHER, attempt: 2, block }];
    await n.deliver(COORDINATOR, EVENT.assign, { term: 1, leaseMs: 30_000, assignments });
    expect(n.run.signal()?.aborted).toBe(false);
    const completion = { task: n.id, attempt: 2, ...report };
    await n.deliver(OTHER, EVENT.complete, { completions: [completion], blocks: [] });
  };

  it.each([
    ['finished first by another node', { ok: true, result: 'bafkqaaa' }, 'done'],
    [
      'failed for good on another node',
      { ok: false, error: { code: 'ENGINE_FAILED', message: 'boom', retryable: false } },
      'failed',
    ],
  ])('%s: its run here is aborted, and nothing is reported', async (_, report, state) => {
    vi.useFakeTimers();
    const n = await runningHere();
    const before = n.f.sent.length;
    await reportedByOther(n, report);
    expect(n.run.signal()?.aborted).toBe(true);
    await n.node.idle();
    expect(n.node.tasksIn(ROOM).find((t) => t.id === n.id)?.state).toBe(state);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(reported(n, before)).toEqual([]);
    expect(n.f.sent.slice(before).filter((s) => s.type === MESH_EVENT.renew)).toEqual([]);
    expect(n.load()).toBe(0);
    expect(failed(n)).toBe(false);
    const line = "run stopped: another node's report settled its task";
    expect(n.f.logs.some((l) => l.includes(line))).toBe(true);
  });

  it('a retryable failure elsewhere settles nothing: the run here goes on', async () => {
    const n = await runningHere();
    const error = { code: 'ENGINE_REFUSED', message: 'no docker', retryable: true };
    await reportedByOther(n, { ok: false, error });
    expect(n.run.signal()?.aborted).toBe(false);
    n.run.finish();
    await n.node.idle();
  });
});

describe('`!cancel` of a task the coordinator runs itself', () => {
  it('aborts the run as its own book takes the cancel; only the cancel is answered', async () => {
    const { f, node, ask, say, settled } = await echoRoom();
    const run = stoppableRun();
    (f.ctx.runtime as { run: Runner['run'] }).run = run.run;
    ask();
    await run.started;
    const id = node.tasksIn(ROOM)[0]?.id as string;
    const before = f.sent.length;
    // Stopped when the book takes the cancel: before the cancel event is even sent.
    let cancelSent: boolean | undefined;
    run.signal()?.addEventListener('abort', () => {
      cancelSent = f.sent.some((s) => s.type === MESH_EVENT.cancel);
    });

    say(`!cancel ${id}`);
    await vi.waitFor(() => expect(cancelSent).toBe(false));
    await settled();
    const said = f.sent
      .slice(before)
      .filter((s) => s.type === 'm.room.message')
      .map((s) => s.content.body);
    expect(said).toEqual([`cancelled ${id}`, `echo: cancelled by ${ALICE}`]);
    expect(f.sent.slice(before).some((s) => s.type === EVENT.complete)).toBe(false);
    expect(f.logs.some((l) => l.includes('task failed'))).toBe(false);
  });
});
