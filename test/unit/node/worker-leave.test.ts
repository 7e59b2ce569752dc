/**
 * A node kicked from a mesh room while it holds an assignment there: the room refuses
 * everything it sends (M_FORBIDDEN), so it must stop renewing and reporting there, and the
 * load it announces in its other rooms must not count the assignment any more.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RoomId } from '../../../src/ids.ts';
import { EVENT, type NodeState } from '../../../src/protocol/events.ts';
import { MESH_EVENT } from '../../../src/protocol/manager.ts';
import { type FakeNode, fakeNode } from '../../support/fake-node.ts';
import { ROOM, runningTask } from '../../support/fake-room.ts';
import { type StoppableRun, stoppableRun, stoppableRuntime } from '../../support/stoppable-run.ts';

const ME = '@me:hs';
const COORDINATOR = '@coord:hs';
const OTHER_ROOM = '!other:hs' as RoomId;
const forbidden = () =>
  Object.assign(new Error('M_FORBIDDEN: not in room'), { errcode: 'M_FORBIDDEN', statusCode: 403 });

afterEach(() => {
  vi.useRealTimers();
});

interface Kickable extends FakeNode {
  /** Every send the node tried, by room and type (refused ones too). */
  tried: { room: RoomId; type: string }[];
  /** The node's announcements, by room. */
  announced: { room: RoomId; load: number }[];
  /** From now on the mesh room refuses whatever the node sends there. */
  kick(): void;
  /** Ends the task's run (it runs until then, or until it is stopped). */
  finishRun(): void;
  run: StoppableRun;
}

/**
 * A node in the mesh room and one other room, holding an assignment it is running; with
 * `ignoresAbort`, the run goes on when it is told to stop, and its result comes anyway.
 */
async function holdingAnAssignment(ignoresAbort = true): Promise<Kickable> {
  const n = await fakeNode({ self: ME, nodes: { [COORDINATOR]: { owner: '@b:hs' } } });
  const { f } = n;
  f.ctx.config.mesh.heartbeatMs = 1_000;
  const run = stoppableRun({ ignoresAbort });
  stoppableRuntime(f, run);
  let kicked = false;
  const tried: Kickable['tried'] = [];
  const announced: Kickable['announced'] = [];
  const client = f.ctx.client;
  const send = client.send.bind(client);
  client.send = async (room, type, content, signal) => {
    tried.push({ room, type });
    if (kicked && room === ROOM) throw forbidden();
    return send(room, type, content, signal);
  };
  const sendState = client.sendState.bind(client);
  client.sendState = async (room, type, key, content) => {
    if (type === EVENT.node) announced.push({ room, load: (content as NodeState).load });
    return sendState(room, type, key, content);
  };
  await n.node.start();
  await n.node.enterRoom(OTHER_ROOM);
  // The other node coordinates for the whole test (this one would renew its own
  // assignments in its own book, without events).
  const lease = { holder: COORDINATOR, term: 1, leaseMs: 3_600_000, renewal: 0 };
  await n.deliver(COORDINATOR, MESH_EVENT.lease, lease, '');
  // A task and its block (`runningTask` books it in the fake's room, not the node's).
  const id = await runningTask(f);
  const block = f.room.book.get(id)?.block as string;
  const assignment = { task: id, worker: ME, attempt: 1, block, report: true };
  await n.deliver(COORDINATOR, EVENT.assign, {
    term: 1,
    leaseMs: 30_000,
    assignments: [assignment],
  });
  await run.started;
  return { ...n, tried, announced, kick: () => (kicked = true), finishRun: run.finish, run };
}

const lastLoadIn = (n: Kickable, room: RoomId) =>
  n.announced.filter((a) => a.room === room).at(-1)?.load;

describe('a node kicked from a room while it holds an assignment there', () => {
  it('stops renewing it, and no longer counts it in the load it announces elsewhere', async () => {
    vi.useFakeTimers();
    const n = await holdingAnAssignment();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(n.tried.some((t) => t.room === ROOM && t.type === MESH_EVENT.renew)).toBe(true);
    expect(lastLoadIn(n, OTHER_ROOM)).toBe(1);

    n.kick();
    await n.leave();
    const before = n.tried.length;
    await vi.advanceTimersByTimeAsync(120_000);
    expect(n.tried.slice(before).filter((t) => t.room === ROOM)).toEqual([]);
    expect(lastLoadIn(n, OTHER_ROOM)).toBe(0);
    const lines = n.f.logs.filter((l) => l.includes('left a room'));
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({ room: ROOM, assignments: 1 });
  });

  it('stops the run in progress there: its engine is aborted, and nothing is reported', async () => {
    vi.useFakeTimers();
    const n = await holdingAnAssignment(false);
    n.kick();
    await n.leave();
    expect(n.run.signal()?.aborted).toBe(true);
    await n.node.idle();
    const before = n.tried.length;
    await vi.advanceTimersByTimeAsync(120_000);
    expect(n.tried.slice(before).filter((t) => t.room === ROOM)).toEqual([]);
    expect(lastLoadIn(n, OTHER_ROOM)).toBe(0);
    expect(n.f.logs.some((l) => l.includes('task failed'))).toBe(false);
    expect(n.f.logs.some((l) => l.includes('run stopped: this node left the room'))).toBe(true);
  });

  it('drops the outcome of a run that ends after the kick: no completion is sent there', async () => {
    vi.useFakeTimers();
    const n = await holdingAnAssignment();
    n.kick();
    await n.leave();
    n.finishRun();
    const before = n.tried.length;
    await vi.advanceTimersByTimeAsync(120_000);
    expect(n.tried.slice(before).filter((t) => t.room === ROOM)).toEqual([]);
    await expect(n.node.idle()).resolves.toBeUndefined();
  });

  it('stops sending a completion that the room refuses, and becomes idle', async () => {
    // Real time: the completion's retry waits are not on the faked timers.
    const n = await holdingAnAssignment();
    n.kick();
    n.finishRun();
    const completions = () => n.tried.filter((t) => t.room === ROOM && t.type === EVENT.complete);
    // Refused, it is tried again (after 1 s, then 2 s, ...), as after any failure.
    await vi.waitFor(() => expect(completions().length).toBeGreaterThanOrEqual(2), {
      timeout: 5_000,
    });

    await n.leave();
    const tries = completions().length;
    await new Promise((r) => setTimeout(r, 3_000));
    expect(completions().length).toBe(tries);
    expect(lastLoadIn(n, OTHER_ROOM)).toBe(0);
    let idle = false;
    void n.node.idle().then(() => (idle = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(idle).toBe(true);
  }, 15_000);
});
