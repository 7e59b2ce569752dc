import { describe, expect, it } from 'vitest';
import { asUserId, type UserId } from '../../../src/ids.ts';
import { Admission } from '../../../src/mesh/admission.ts';
import type { RoomView } from '../../../src/mesh/roster.ts';
import type { NodeState } from '../../../src/protocol/events.ts';
import { nodeState } from '../../support/fake-room.ts';

const u = (s: string): UserId => asUserId(s);
const state = nodeState();

function view(): RoomView {
  return {
    members: new Set([u('@owner:x'), u('@mod:x'), u('@pleb:x'), u('@bot1:x'), u('@bot2:x')]),
    nodes: new Map<UserId, NodeState>([
      [u('@bot2:x'), state],
      [u('@bot1:x'), state],
      [u('@gone:x'), state],
    ]),
    powerLevels: new Map([[u('@mod:x'), 50]]),
    powerDefault: 0,
  };
}

describe('the mesh policy', () => {
  const admission = new Admission({
    owner: '@owner:x',
    admission: { users: ['@friend:y'], powerLevel: 50 },
  });

  it('admits the owner, configured users and moderators to submit work, and no one else', () => {
    expect(admission.maySubmit(view(), u('@owner:x'))).toBe(true);
    expect(admission.maySubmit(view(), u('@friend:y'))).toBe(true);
    expect(admission.maySubmit(view(), u('@mod:x'))).toBe(true);
    expect(admission.maySubmit(view(), u('@pleb:x'))).toBe(false);
    expect(admission.maySubmit(view(), u('@stranger:z'))).toBe(false);
  });

  it('accepts invites from the owner and configured users only', () => {
    expect(admission.mayInvite(u('@owner:x'))).toBe(true);
    expect(admission.mayInvite(u('@mod:x'))).toBe(false);
  });

  it('in a room where every member may submit, counts only joined, announced members as nodes', () => {
    const open = new Admission({ owner: '@owner:x', admission: { users: [], powerLevel: 0 } });
    expect(open.isNode(view(), u('@bot1:x'))).toBe(true);
    expect(open.isNode(view(), u('@gone:x'))).toBe(false);
    expect(open.isNode(view(), u('@pleb:x'))).toBe(false);
  });

  it('a member below the bar to submit work is no node, even at node power level 0', () => {
    // Else it could take the coordinator's lease and hand out work it may not submit.
    const v = view();
    v.nodes.set(u('@pleb:x'), state);
    expect(admission.maySubmit(v, u('@pleb:x'))).toBe(false);
    expect(admission.isNode(v, u('@pleb:x'))).toBe(false);
    expect(admission.isNode(v, u('@bot1:x'))).toBe(false);
  });

  it('a bot listed in admission.nodes counts as a node below the bar to submit', () => {
    const listed = new Admission({
      owner: '@owner:x',
      admission: { users: [], powerLevel: 50, nodes: ['@bot1:x'] },
    });
    expect(listed.isNode(view(), u('@bot1:x'))).toBe(true);
    expect(listed.isNode(view(), u('@bot2:x'))).toBe(false);
    expect(listed.isNode(view(), u('@gone:x'))).toBe(false);
  });

  it('with a node power level, counts only announced members that may submit and are at it, or listed', () => {
    const strict = new Admission({
      owner: '@owner:x',
      admission: { users: ['@pleb:x'], powerLevel: 50, nodes: ['@bot2:x'], nodePowerLevel: 10 },
    });
    const v = view();
    v.powerLevels.set(u('@bot1:x'), 60);
    v.nodes.set(u('@pleb:x'), state);
    expect(strict.isNode(v, u('@bot1:x'))).toBe(true);
    expect(strict.isNode(v, u('@bot2:x'))).toBe(true);
    // A configured user may submit at any level, but a node also needs the node power level.
    expect(strict.isNode(v, u('@pleb:x'))).toBe(false);
  });

  it('tells a member who may not submit why', () => {
    expect(admission.refusal(view(), u('@pleb:x'))).toContain('power level 50');
    expect(admission.refusal(view(), u('@owner:x'))).toBeNull();
  });
});
