/**
 * A cancel for an assignment that waits behind another run on this node (the coordinator
 * hands out up to capacity + prefetch): nothing is left to stop, and nothing is left held
 * either. The node lets it go at once: no renewals for it, and its announced load drops then,
 * not only when the run ahead of it ends.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EVENT } from '../../../src/protocol/events.ts';
import { MESH_EVENT } from '../../../src/protocol/manager.ts';
import { announcedLoads, fakeNode } from '../../support/fake-node.ts';
import { runningTask } from '../../support/fake-room.ts';
import { stoppableRun, stoppableRuntime } from '../../support/stoppable-run.ts';

const ME = '@me:hs';
const COORDINATOR = '@coord:hs';
const ALICE = '@alice:hs';

afterEach(() => {
  vi.useRealTimers();
});

describe('a cancel of an assignment waiting behind another run', () => {
  it('lets it go at once: not renewed, not counted in the load', async () => {
    vi.useFakeTimers();
    const n = await fakeNode({
      self: ME,
      members: [ALICE],
      nodes: { [COORDINATOR]: { owner: ALICE } },
    });
    const { f } = n;
    f.ctx.config.mesh.heartbeatMs = 1_000;
    const run = stoppableRun();
    stoppableRuntime(f, run);
    const loads = announcedLoads(f);
    await n.node.start();
    const lease = { holder: COORDINATOR, term: 1, leaseMs: 3_600_000, renewal: 0 };
    await n.deliver(COORDINATOR, MESH_EVENT.lease, lease, '');
    const first = await runningTask(f);
    const second = await runningTask(f, { request: '$run2' });
    const block = (id: string) => f.room.book.get(id)?.block as string;
    const assignments = [
      { task: first, worker: ME, attempt: 1, block: block(first) },
      { task: second, worker: ME, attempt: 1, block: block(second) },
    ];
    await n.deliver(COORDINATOR, EVENT.assign, { term: 1, leaseMs: 30_000, assignments });
    await run.started;
    await vi.advanceTimersByTimeAsync(2_000);
    expect(loads.at(-1)).toBe(2);

    const reason = `cancelled by ${ALICE}`;
    await n.deliver(COORDINATOR, MESH_EVENT.cancel, { term: 1, tasks: [second], reason });
    const before = f.sent.length;
    await vi.advanceTimersByTimeAsync(20_000);
    // The first task still runs (its run was not stopped) and is still renewed.
    expect(run.signal()?.aborted).toBe(false);
    const renewed = f.sent
      .slice(before)
      .filter((s) => s.type === MESH_EVENT.renew)
      .flatMap((s) => (s.content.leases as { task: string }[]).map((l) => l.task));
    expect(renewed).toContain(first);
    expect(renewed).not.toContain(second);
    expect(loads.at(-1)).toBe(1);
    run.finish();
    await n.node.idle();
  });
});
