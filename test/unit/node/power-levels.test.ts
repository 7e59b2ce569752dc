/** The power levels a bot that may change them gives the mesh's events. */
import { describe, expect, it } from 'vitest';
import { ensureMeshPowerLevels } from '../../../src/node/power-levels.ts';
import { EVENT } from '../../../src/protocol/events.ts';
import { MESH_EVENT } from '../../../src/protocol/manager.ts';
import { type FakeRoom, fakeRoom, ROOM } from '../../support/fake-room.ts';

const levelsSet = (sent: { type: string; content: Record<string, unknown> }[]) =>
  (sent.find((s) => s.type === 'm.room.power_levels')?.content.events ?? {}) as Record<
    string,
    number
  >;

/** The power-levels auth rule for `events` (Matrix spec; Synapse's `_check_power_levels`). */
function homeserverAllows(
  before: Record<string, number>,
  after: Record<string, number>,
  senderLevel: number,
): boolean {
  for (const type of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const [was, now] = [before[type], after[type]];
    if (was === now) continue;
    if ((was ?? 0) > senderLevel || (now ?? 0) > senderLevel) return false;
  }
  return true;
}

/** Sets the room's power levels `events`, as an admin would have. */
async function setEvents(f: FakeRoom, events: Record<string, number>): Promise<void> {
  const state = await f.ctx.client.stateOfType(ROOM, 'm.room.power_levels');
  (state.get('') as { content: Record<string, unknown> }).content.events = events;
}

describe('the mesh power levels', () => {
  it('take the node power level, and anyone may announce a node', async () => {
    const f = await fakeRoom({
      self: '@bot1:hs',
      powerLevels: { '@bot1:hs': 100 },
      admission: { nodePowerLevel: 20 },
    });
    await ensureMeshPowerLevels(f.ctx, ROOM);
    const events = levelsSet(f.sent);
    expect(events[EVENT.node]).toBe(0);
    expect(events[MESH_EVENT.lease]).toBe(20);
    expect(events[EVENT.complete]).toBe(20);
  });

  it('let a bot listed in admission.nodes below the node power level still send them', async () => {
    const f = await fakeRoom({
      self: '@bot1:hs',
      nodes: { '@bot2:hs': { owner: '@bob:hs' } },
      powerLevels: { '@bot1:hs': 100, '@owner:hs': 100, '@bot2:hs': 10 },
      admission: { powerLevel: 50, nodePowerLevel: 50, nodes: ['@bot1:hs', '@bot2:hs'] },
    });
    expect(f.ctx.admission.isNode(f.ctx.roster.view(ROOM), '@bot2:hs' as never)).toBe(true);
    await ensureMeshPowerLevels(f.ctx, ROOM);
    const events = levelsSet(f.sent);
    for (const type of [MESH_EVENT.renew, EVENT.complete, MESH_EVENT.lease, EVENT.head]) {
      expect(events[type], type).toBe(10);
    }
  });

  it('lower the levels a bot set before, for a listed bot below them, and only for members', async () => {
    const f = await fakeRoom({
      self: '@bot1:hs',
      nodes: { '@bot2:hs': { owner: '@bob:hs' } },
      powerLevels: { '@bot1:hs': 100, '@owner:hs': 100, '@bot2:hs': 10 },
      admission: { powerLevel: 50, nodePowerLevel: 50, nodes: ['@bot2:hs', '@bot3:hs'] },
    });
    // As a bot set them before @bot2:hs was listed; @bot3:hs has not joined.
    const state = await f.ctx.client.stateOfType(ROOM, 'm.room.power_levels');
    const current = state.get('') as { content: Record<string, unknown> };
    const types = [EVENT.head, EVENT.assign, EVENT.complete, MESH_EVENT.lease, MESH_EVENT.renew];
    current.content.events = Object.fromEntries([[EVENT.node, 0], ...types.map((t) => [t, 50])]);
    await ensureMeshPowerLevels(f.ctx, ROOM);
    const events = levelsSet(f.sent);
    for (const type of types) expect(events[type], type).toBe(10);
  });

  it('count a listed bot that is not in the room now, if it has a level there', async () => {
    const f = await fakeRoom({
      self: '@bot1:hs',
      powerLevels: { '@bot1:hs': 100, '@owner:hs': 100, '@bot2:hs': 10 },
      admission: { powerLevel: 50, nodePowerLevel: 50, nodes: ['@bot2:hs'] },
    });
    // @bot2:hs was kicked (or is not invited yet): the levels stay where it can send.
    const state = await f.ctx.client.stateOfType(ROOM, 'm.room.power_levels');
    const current = state.get('') as { content: Record<string, unknown> };
    const types = [EVENT.head, EVENT.assign, EVENT.complete, MESH_EVENT.lease, MESH_EVENT.renew];
    current.content.events = Object.fromEntries([[EVENT.node, 0], ...types.map((t) => [t, 10])]);
    await ensureMeshPowerLevels(f.ctx, ROOM);
    const events = levelsSet(f.sent);
    for (const type of types) expect(events[type] ?? 10, type).toBe(10);
  });

  it('leave alone a level set above the bot, so the homeserver still takes the rest', async () => {
    const f = await fakeRoom({
      self: '@bot1:hs',
      powerLevels: { '@bot1:hs': 50, '@owner:hs': 100 },
      admission: { nodePowerLevel: 20 },
    });
    // An admin raised the announcement to 100; the power levels need 50, which the bot has.
    const before = { 'm.room.power_levels': 50, [EVENT.node]: 100 };
    await setEvents(f, before);
    await ensureMeshPowerLevels(f.ctx, ROOM);
    const events = levelsSet(f.sent);
    expect(homeserverAllows(before, events, 50)).toBe(true);
    expect(events[EVENT.node]).toBe(100);
    expect(events[MESH_EVENT.lease]).toBe(20);
  });

  it('never lower a level from above the bot, though it is the node power level', async () => {
    const f = await fakeRoom({
      self: '@bot1:hs',
      powerLevels: { '@bot1:hs': 50, '@owner:hs': 100 },
      admission: { nodePowerLevel: 100 },
    });
    const before = { 'm.room.power_levels': 50, [MESH_EVENT.lease]: 100 };
    await setEvents(f, before);
    await ensureMeshPowerLevels(f.ctx, ROOM);
    const events = levelsSet(f.sent);
    expect(homeserverAllows(before, events, 50)).toBe(true);
    expect(events[MESH_EVENT.lease]).toBe(100);
    expect(events[EVENT.node]).toBe(0);
    expect(events[EVENT.complete]).toBe(50);
  });

  it("are set by a bot that created a room of version 12, which no 'users' entry lists", async () => {
    const f = await fakeRoom({
      self: '@bot1:hs',
      create: { sender: '@bot1:hs', content: { room_version: '12' } },
      powerLevels: { '@owner:hs': 100 },
      admission: { nodePowerLevel: 20 },
    });
    await setEvents(f, { 'm.room.power_levels': 100 });
    await ensureMeshPowerLevels(f.ctx, ROOM);
    const events = levelsSet(f.sent);
    expect(events[EVENT.node]).toBe(0);
    expect(events[MESH_EVENT.lease]).toBe(20);
  });
});
