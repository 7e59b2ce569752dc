/** A node whose power level keeps it from announcing itself in a mesh room. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EVENT } from '../../../src/protocol/events.ts';
import { fakeNode } from '../../support/fake-node.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('a bot whose power level is too low to announce itself', () => {
  it('tells the room once, not at every heartbeat, and joins once the power levels change', async () => {
    vi.useFakeTimers();
    let allowed = false;
    const forbidden = Object.assign(new Error('forbidden'), { errcode: 'M_FORBIDDEN' });
    const { node, f, deliver } = await fakeNode({
      self: '@me:hs',
      sendState: async (type) => {
        if (type === EVENT.node && !allowed) throw forbidden;
      },
    });
    f.ctx.config.mesh.heartbeatMs = 1_000;
    const notices = () =>
      f.sent.filter((s) => String(s.content.body).includes("can't join this mesh"));
    await node.start();
    for (let i = 0; i < 10; i++) await vi.advanceTimersByTimeAsync(1_000);
    expect(notices()).toHaveLength(1);
    expect(f.sent.some((s) => s.type === EVENT.node)).toBe(false);
    // An admin lowers the level: the node announces itself without waiting for a heartbeat.
    allowed = true;
    await deliver('@owner:hs', 'm.room.power_levels', { users: {}, events: {} }, '');
    await vi.advanceTimersByTimeAsync(0);
    expect(f.sent.filter((s) => s.type === EVENT.node)).toHaveLength(1);
    expect(notices()).toHaveLength(1);
  });
});
