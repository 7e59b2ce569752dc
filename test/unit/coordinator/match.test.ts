import { describe, expect, it } from 'vitest';
import {
  type Candidate,
  fairOrder,
  pickWorker,
  whyNoNode,
} from '../../../src/coordinator/match.ts';
import type { TaskRecord } from '../../../src/coordinator/task-record.ts';
import { asUserId } from '../../../src/ids.ts';
import type { NodeState } from '../../../src/protocol/events.ts';

function node(over: Partial<NodeState> = {}): NodeState {
  return {
    version: '1',
    engines: [{ name: 'noop', cid: 'bafynoop1' }],
    cores: 4,
    arch: 'x64',
    memoryMb: 4096,
    gpu: false,
    capacity: 1,
    load: 0,
    ts: 0,
    ...over,
  };
}
const cand = (id: string, held: number, over: Partial<NodeState> = {}): Candidate => ({
  id: asUserId(id),
  state: node(over),
  held,
});

function task(seq: number, submitter: string): TaskRecord {
  return {
    id: `t${seq}`,
    request: `$r${seq}`,
    submitter,
    engine: 'noop',
    state: 'queued',
    attempt: 0,
    failures: [],
    answered: false,
    acceptedAt: seq,
    seq,
  };
}

describe('matching tasks to nodes', () => {
  const needs = { engine: 'noop', engineCid: 'bafynoop1' };

  it('picks the least-loaded node with a free slot that runs the exact engine', () => {
    const nodes = [cand('@a:x', 1), cand('@b:x', 0), cand('@c:x', 0, { engines: [] })];
    expect(pickWorker(needs, nodes, 1)).toBe('@b:x');
    expect(pickWorker(needs, [cand('@a:x', 2)], 1)).toBeNull();
    const other = [cand('@d:x', 0, { engines: [{ name: 'noop', cid: 'bafynoop2' }] })];
    expect(pickWorker(needs, other, 1)).toBeNull();
  });

  it('puts the coordinator first among equally loaded nodes, or last of all, as asked', () => {
    const nodes = [cand('@a:x', 0), cand('@b:x', 0)];
    expect(pickWorker(needs, nodes, 1, new Set(), { id: asUserId('@b:x'), place: 'first' })).toBe(
      '@b:x',
    );
    expect(pickWorker(needs, nodes, 1, new Set(), { id: asUserId('@a:x'), place: 'last' })).toBe(
      '@b:x',
    );
    // Last: only when no other node has a free slot, however loaded those are.
    const busy = [cand('@a:x', 0), cand('@b:x', 1)];
    const last = { id: asUserId('@a:x'), place: 'last' as const };
    expect(pickWorker(needs, busy, 1, new Set(), last)).toBe('@b:x');
    expect(pickWorker(needs, [cand('@a:x', 0), cand('@b:x', 2)], 1, new Set(), last)).toBe('@a:x');
  });

  it('avoids a node that failed the task while another can run it', () => {
    const nodes = [cand('@a:x', 0), cand('@b:x', 1)];
    expect(pickWorker(needs, nodes, 1, new Set(['@a:x']))).toBe('@b:x');
    expect(pickWorker(needs, [cand('@a:x', 0)], 1, new Set(['@a:x']))).toBe('@a:x');
  });

  it('checks memory, architecture and GPU, and says why no node fits', () => {
    const big = { ...needs, memoryMb: 8192, gpu: true };
    expect(pickWorker(big, [cand('@a:x', 0)], 1)).toBeNull();
    const why = whyNoNode(big, [node()]);
    expect(why).toContain('8192 MB of memory (the most any node has is 4096 MB)');
    expect(why).toContain('a GPU');
    expect(whyNoNode({ engine: 'whisper' }, [node()])).toContain(
      'no node in this mesh runs the engine "whisper"; engines here: noop',
    );
    expect(whyNoNode({ ...needs, arch: 'arm64' }, [node()])).toContain('arm64');
    expect(whyNoNode(needs, [node()])).toBeNull();
  });

  it("shares fairly: one person's thousand tasks do not starve another's one", () => {
    const queued = Array.from({ length: 1000 }, (_, i) => task(i, '@many:x'));
    queued.push(task(5000, '@one:x'));
    const order = fairOrder(queued, new Map([['@many:x', 3]]));
    expect(order[0]?.submitter).toBe('@one:x');
    expect(order.slice(1, 4).map((t) => t.seq)).toEqual([0, 1, 2]);
  });

  it('alternates between submitters with equal shares, oldest first', () => {
    const queued = [task(1, '@a:x'), task(2, '@a:x'), task(3, '@b:x'), task(4, '@b:x')];
    expect(fairOrder(queued, new Map()).map((t) => t.seq)).toEqual([1, 3, 2, 4]);
  });
});
