import { describe, expect, it } from 'vitest';
import type { UserId } from '../../../src/ids.ts';
import { EVENT } from '../../../src/protocol/events.ts';
import { fakeNode } from '../../support/fake-node.ts';
import { type FakeRoom, fakeRoom, nodeState, ROOM } from '../../support/fake-room.ts';

const SELF = '@bot1:hs';
const PEER = '@bot2:hs';

/** The event that holds `node`'s announcement in the room's state, as loaded. */
async function announcement(f: FakeRoom, node: string): Promise<string> {
  const state = await f.ctx.client.stateOfType(ROOM, EVENT.node);
  return state.get(node)?.event_id as string;
}

function room(powerLevels: Record<string, number> = {}): Promise<FakeRoom> {
  return fakeRoom({
    self: SELF,
    nodes: { [PEER]: { owner: '@owner:hs' } },
    members: ['@mod:hs', '@pleb:hs'],
    powerLevels: { '@mod:hs': 50, ...powerLevels },
  });
}

const redaction = (f: FakeRoom, sender: string, redacts: string) =>
  f.event(sender, 'm.room.redaction', { redacts });

const nodes = (f: FakeRoom) => [...(f.ctx.roster.view(ROOM)?.nodes.keys() ?? [])];

describe('a deleted node announcement', () => {
  it('withdraws the node at once when the node deleted it', async () => {
    const f = await room();
    const withdrawn = f.ctx.roster.redact(ROOM, redaction(f, PEER, await announcement(f, PEER)));
    expect(withdrawn).toBe(PEER);
    expect(nodes(f)).toEqual([SELF]);
    expect(f.ctx.admission.isNode(f.ctx.roster.view(ROOM), PEER as UserId)).toBe(false);
  });

  it('withdraws the node when a member who may redact deleted it', async () => {
    const f = await room();
    f.ctx.roster.redact(ROOM, redaction(f, '@mod:hs', await announcement(f, PEER)));
    expect(nodes(f)).toEqual([SELF]);
  });

  it('is ignored from a member below the power to redact, whom the homeserver does not obey', async () => {
    const f = await room();
    const id = await announcement(f, PEER);
    expect(f.ctx.roster.redact(ROOM, redaction(f, '@pleb:hs', id))).toBeUndefined();
    // The room's own redact level counts: here 100, over the moderator's 50.
    f.ctx.roster.apply(ROOM, {
      ...f.event('@owner:hs', 'm.room.power_levels', {
        users: { '@owner:hs': 100, '@mod:hs': 50 },
        redact: 100,
      }),
      state_key: '',
    });
    expect(f.ctx.roster.redact(ROOM, redaction(f, '@mod:hs', id))).toBeUndefined();
    expect(nodes(f).sort()).toEqual([SELF, PEER].sort());
    expect(f.ctx.roster.redact(ROOM, redaction(f, '@owner:hs', id))).toBe(PEER);
  });

  it('of an announcement the node has since replaced changes nothing', async () => {
    const f = await room();
    const old = await announcement(f, PEER);
    f.ctx.roster.apply(ROOM, {
      ...f.event(PEER, EVENT.node, nodeState('@owner:hs')),
      state_key: PEER,
    });
    expect(f.ctx.roster.redact(ROOM, redaction(f, PEER, old))).toBeUndefined();
    expect(nodes(f).sort()).toEqual([SELF, PEER].sort());
  });

  it('takes the redacted id from `redacts` outside the content too (room versions before 11)', async () => {
    const f = await room();
    const event = {
      ...f.event(PEER, 'm.room.redaction', {}),
      redacts: await announcement(f, PEER),
    };
    expect(f.ctx.roster.redact(ROOM, event)).toBe(PEER);
  });

  it('makes the node whose announcement it was announce itself again at once', async () => {
    const n = await fakeNode({ self: SELF, nodes: { [PEER]: { owner: '@owner:hs' } } });
    await n.node.enterRoom(ROOM);
    const mine = n.f.sent.filter((s) => s.type === EVENT.node).length;
    // The node's announcement now: the one the room's state holds for it.
    const id = await announcement(n.f, SELF);
    await n.deliver(SELF, 'm.room.redaction', { redacts: id });
    await new Promise((r) => setImmediate(r));
    expect(n.f.sent.filter((s) => s.type === EVENT.node).length).toBe(mine + 1);
    expect(nodes(n.f)).toContain(SELF);
  });
});
