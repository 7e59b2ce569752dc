import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../src/errors/index.ts';
import {
  pickReplicaNodes,
  planReplicas,
  type ReplicaCandidate,
} from '../../../src/verifier/replication.ts';
import { mulberry32 } from '../../../src/verifier/simulate.ts';
import { verifierOptions } from '../../../src/verifier/types.ts';

const opts = verifierOptions({ warmup: 10, spotCheckRate: 0.1 });
const trusted = { streak: 10, quarantined: false };
const newcomer = { streak: 9, quarantined: false };
const never = () => 0.999;
const always = () => 0;

describe('how many replicas a task runs', () => {
  it('the defaults are BOINC-like: q = 0.1, ten agreeing results, quorum of two, at most five', () => {
    expect(verifierOptions()).toEqual({
      spotCheckRate: 0.1,
      warmup: 10,
      maxReplicas: 5,
      quorum: 2,
    });
    expect(() => verifierOptions({ spotCheckRate: 2 })).toThrow(/spotCheckRate/);
    expect(() => verifierOptions({ quorum: 6 })).toThrow(/quorum/);
    expect(() => verifierOptions({ replicas: 3 })).toThrow(BadInputError);
  });

  it('runs exactly the replicas=k a person asked for', () => {
    expect(planReplicas({ requested: 3, worker: trusted, random: never }, opts)).toBe(3);
    expect(planReplicas({ requested: 1, worker: newcomer, random: always }, opts)).toBe(1);
    for (const bad of [0, 6, 2.5, Number.NaN]) {
      expect(() => planReplicas({ requested: bad, worker: trusted, random: never }, opts)).toThrow(
        BadInputError,
      );
    }
  });

  it('fully replicates every task of a node still in warm-up, or quarantined', () => {
    expect(planReplicas({ worker: newcomer, random: never }, opts)).toBe(2);
    const caught = { streak: 50, quarantined: true };
    expect(planReplicas({ worker: caught, random: never }, opts)).toBe(2);
  });

  it('spot-checks a trusted node’s tasks with probability q, each task drawn afresh', () => {
    expect(planReplicas({ worker: trusted, random: always }, opts)).toBe(2);
    expect(planReplicas({ worker: trusted, random: never }, opts)).toBe(1);
    const random = mulberry32(42);
    const n = 20_000;
    let checked = 0;
    for (let i = 0; i < n; i++)
      if (planReplicas({ worker: trusted, random }, opts) === 2) checked++;
    expect(checked / n).toBeGreaterThan(0.09);
    expect(checked / n).toBeLessThan(0.11);
  });
});

describe('where the replicas run', () => {
  const nodes: ReplicaCandidate[] = [
    { id: 'a1', owner: 'alice' },
    { id: 'a2', owner: 'alice' },
    { id: 'b1', owner: 'bob' },
    { id: 'c1', owner: 'carol', quarantined: true },
    { id: 'd1', owner: 'dave' },
  ];

  it('puts replicas on nodes of owners the task has not used yet', () => {
    const picked = pickReplicaNodes(nodes, { ids: ['a1'], owners: ['alice'] }, 2);
    expect(picked.map((n) => n.id)).toEqual(['b1', 'd1']);
  });

  it('falls back to another node of a used owner only when no other owner is left', () => {
    const picked = pickReplicaNodes(nodes, { ids: ['a1'], owners: ['alice'] }, 3);
    expect(picked.map((n) => n.id)).toEqual(['b1', 'd1', 'a2']);
  });

  it('never picks a quarantined node or the same node twice, and says when it is short', () => {
    const doubled = [...nodes, { id: 'b1', owner: 'bob' }];
    const picked = pickReplicaNodes(doubled, { ids: ['a1'], owners: ['alice'] }, 5);
    expect(picked.map((n) => n.id)).toEqual(['b1', 'd1', 'a2']);
    expect(pickReplicaNodes(nodes, { ids: ['a1', 'a2', 'b1', 'd1'], owners: [] }, 1)).toEqual([]);
  });

  it('for any mesh: distinct nodes, none excluded or quarantined, owners distinct while they last', () => {
    // A mesh: which owner runs each of six nodes, which are quarantined, in what order listed.
    const mesh = fc
      .tuple(
        fc.array(fc.constantFrom('o1', 'o2', 'o3'), { minLength: 6, maxLength: 6 }),
        fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        fc.array(fc.nat(5), { maxLength: 10 }),
      )
      .map(([owners, quarantined, order]) =>
        order.map((i) => ({
          id: `n${i + 1}`,
          owner: owners[i] ?? 'o1',
          quarantined: quarantined[i] ?? false,
        })),
      );
    fc.assert(
      fc.property(mesh, fc.nat(6), (candidates, n) => {
        const exclude = { ids: ['n1'], owners: ['o1'] };
        const picked = pickReplicaNodes(candidates, exclude, n);
        const ids = picked.map((p) => p.id);
        expect(picked.length).toBeLessThanOrEqual(n);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids).not.toContain('n1');
        expect(picked.every((p) => !p.quarantined)).toBe(true);
        const fresh = new Set(
          candidates.filter((c) => !c.quarantined && c.id !== 'n1' && c.owner !== 'o1'),
        );
        const freshOwners = new Set([...fresh].map((c) => c.owner)).size;
        const owners = picked.map((p) => p.owner);
        const distinctPrefix = Math.min(n, freshOwners);
        expect(new Set(owners.slice(0, distinctPrefix)).size).toBe(distinctPrefix);
        expect(owners.slice(0, distinctPrefix)).not.toContain('o1');
      }),
    );
  });
});
