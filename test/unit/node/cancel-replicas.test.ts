/**
 * `!cancel` of a task the Verifier is checking: the coordinator's book cancels the replicas
 * with it (they are its parts there), and the workers running them must learn it too. Their
 * books knew the task as done with its first result (only the coordinator holds it back while
 * the replicas run), so a cancel event naming the task alone cancels nothing there: the
 * replicas' runs went on to their end.
 */
import { CID } from 'multiformats/cid';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { withdraw } from '../../../src/node/withdraw.ts';
import { EVENT } from '../../../src/protocol/events.ts';
import { MESH_EVENT } from '../../../src/protocol/manager.ts';
import type { Task } from '../../../src/queue/task.ts';
import { fakeNode } from '../../support/fake-node.ts';
import { ROOM, runningTask } from '../../support/fake-room.ts';
import { stoppableRun, stoppableRuntime } from '../../support/stoppable-run.ts';

const ME = '@me:hs';
const COORDINATOR = '@coord:hs';
const OTHER = '@other:hs';
const ALICE = '@alice:hs';

afterEach(() => {
  vi.useRealTimers();
});

describe('`!cancel` of a task whose replicas run on other nodes', () => {
  it('stops the replica running on a worker', async () => {
    const n = await fakeNode({
      self: ME,
      members: [ALICE],
      nodes: { [COORDINATOR]: { owner: ALICE }, [OTHER]: { owner: ALICE } },
    });
    const { f } = n;
    const run = stoppableRun();
    stoppableRuntime(f, run);
    await n.node.start();
    const lease = { holder: COORDINATOR, term: 1, leaseMs: 3_600_000, renewal: 0 };
    await n.deliver(COORDINATOR, MESH_EVENT.lease, lease, '');

    // The coordinator's book (the fake's room plays it): the task, done by OTHER, then held
    // while replica 1 checks it.
    const coordinator = f.room;
    const task = await runningTask(f);
    const result = (await f.ctx.store.addBytes(new TextEncoder().encode('out'))).toString();
    const done = { task, attempt: 1, ok: true, result };
    coordinator.book.assign(task, { worker: OTHER, attempt: 1, term: 1 }, 60_000, Date.now());
    coordinator.book.complete(OTHER, done, 3, Date.now());
    const replica = await runningTask(f, {
      parent: CID.parse(task),
      replica: { of: CID.parse(task), n: 1 },
    } as Partial<Task>);
    coordinator.book.verify(task, [replica]);
    expect(coordinator.book.get(task)?.state).toBe('split');

    // This worker saw the task assigned to OTHER and done, then got its replica.
    const block = (id: string) => coordinator.book.get(id)?.block as string;
    const assign = (id: string, worker: string) => ({
      term: 1,
      leaseMs: 30_000,
      assignments: [{ task: id, worker, attempt: 1, block: block(id) }],
    });
    await n.deliver(COORDINATOR, EVENT.assign, assign(task, OTHER));
    await n.deliver(OTHER, EVENT.complete, { completions: [done], blocks: [] });
    await n.deliver(COORDINATOR, EVENT.assign, assign(replica, ME));
    await run.started;

    // Alice's `!cancel <task>` on the coordinator: its cancel event, as the room carries it.
    const sentBefore = f.sent.length;
    await withdraw(f.ctx, coordinator, [task], `cancelled by ${ALICE}`);
    expect(coordinator.book.get(replica)?.state).toBe('cancelled');
    const cancel = f.sent.slice(sentBefore).find((s) => s.type === MESH_EVENT.cancel);
    await n.deliver(COORDINATOR, MESH_EVENT.cancel, { ...cancel?.content, term: 1 });

    expect(run.signal()?.aborted).toBe(true);
    await n.node.idle();
    expect(n.node.tasksIn(ROOM).find((t) => t.id === replica)?.state).toBe('cancelled');
  });
});
