/** The power levels a bot that may change them gives the mesh's events. */
import { describe, expect, it } from 'vitest';
import { ensureMeshPowerLevels } from '../../../src/node/power-levels.ts';
import { EVENT } from '../../../src/protocol/events.ts';
import { MESH_EVENT } from '../../../src/protocol/manager.ts';
import { fakeRoom, ROOM } from '../../support/fake-room.ts';

const levelsSet = (sent: { type: string; content: Record<string, unknown> }[]) =>
  (sent.find((s) => s.type === 'm.room.power_levels')?.content.events ?? {}) as Record<
    string,
    number
  >;

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
});
