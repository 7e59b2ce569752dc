import { describe, expect, it } from 'vitest';
import { chooseCoordinator, chooseWorker } from '../../../src/coordinator/choose.ts';
import { asUserId, type UserId } from '../../../src/ids.ts';
import { Admission } from '../../../src/mesh/admission.ts';
import { liveNodes, type RoomView } from '../../../src/mesh/roster.ts';
import type { NodeState } from '../../../src/protocol/events.ts';

const u = (s: string): UserId => asUserId(s);
const state = {
  version: '0',
  engines: [],
  cores: 1,
  arch: 'x64',
  memoryMb: 1,
  gpu: false,
  capacity: 1,
  load: 0,
  ts: 0,
};

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

  it('counts only joined, announced members as nodes', () => {
    expect(admission.isNode(view(), u('@bot1:x'))).toBe(true);
    expect(admission.isNode(view(), u('@gone:x'))).toBe(false);
    expect(admission.isNode(view(), u('@pleb:x'))).toBe(false);
  });
});

describe('the skeleton coordinator', () => {
  it('is the live node with the lowest id, the same on every node', () => {
    expect(liveNodes(view())).toEqual(['@bot1:x', '@bot2:x']);
    expect(chooseCoordinator(liveNodes(view()))).toBe('@bot1:x');
    expect(chooseCoordinator([])).toBeNull();
  });

  it('gives work to the least-loaded node that runs the engine', () => {
    const nodes = [
      { id: u('@a:x'), engines: ['wordcount'], load: 2 },
      { id: u('@b:x'), engines: ['wordcount'], load: 1 },
      { id: u('@c:x'), engines: ['sha256'], load: 0 },
    ];
    expect(chooseWorker(nodes, 'wordcount')).toBe('@b:x');
    expect(chooseWorker(nodes, 'whisper')).toBeNull();
  });
});
