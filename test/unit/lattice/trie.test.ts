/**
 * The GOHO trie at sizes where it branches: canonical shape, O(log n) writes per append,
 * cheap differences, merges laws and one value everywhere — against a memory store.
 */
import * as dagJson from '@ipld/dag-json';
import fc from 'fast-check';
import type { CID } from 'multiformats/cid';
import { describe, expect, it } from 'vitest';
import {
  createGoho,
  fold,
  type Goho,
  type LeafInput,
  openGoho,
} from '../../../src/lattice/index.ts';
import { BUCKET_MAX } from '../../../src/lattice/trie-node.ts';
import { cidOf, DAG_JSON } from '../../../src/store/cid.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';
import type { Store } from '../../../src/store/types.ts';

const authors = ['@a:h', '@b:h', '@c:h'];
const leafArb: fc.Arbitrary<LeafInput> = fc.record(
  {
    path: fc.constantFrom('available', 'assigned', 'x/y', 's'),
    action: fc.constantFrom('set', 'append'),
    value: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.string({ maxLength: 4 })),
    key: fc.constantFrom('k1', 'k2', 'k3'),
    author: fc.constantFrom(...authors),
    clock: fc.integer({ min: 0, max: 40 }),
  },
  { requiredKeys: ['path', 'action', 'value', 'author'] },
);

type Step =
  | { kind: 'append'; replica: number; leaves: LeafInput[] }
  | { kind: 'merge'; into: number; from: number };
const replica = fc.integer({ min: 0, max: 2 });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      replica,
      leaves: fc.array(leafArb, { minLength: 1, maxLength: 60 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('merge' as const), into: replica, from: replica }),
  },
);

const many = (n: number, from = 0, path = 'available'): LeafInput[] =>
  Array.from({ length: n }, (_, i) => ({
    path,
    action: 'append' as const,
    value: `task-${from + i}`,
    key: `task-${from + i}`,
    author: authors[i % 3] as string,
  }));

/** The store, counting every block read into `reads`. */
function countReads(store: Store, reads: string[]): Store {
  return {
    ...store,
    getBlock: (c: CID, o?: object) => {
      reads.push(c.toString());
      return store.getBlock(c, o);
    },
  };
}

async function fresh(name = 'trie-test') {
  const store = createMemoryStore();
  const g = await createGoho(store, { name });
  return { store, origin: g.origin(), g };
}

describe('the GOHO trie', () => {
  it('converges: random schedules of batched appends and merges over 3 replicas end at one CID, one value, the canonical root', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 14 }), async (steps) => {
        const { store, origin } = await fresh();
        const rs = [
          await openGoho(store, origin),
          await openGoho(store, origin),
          await openGoho(store, origin),
        ] as [Goho, Goho, Goho];
        for (const s of steps) {
          if (s.kind === 'append') await rs[s.replica]?.appendAll(s.leaves);
          else await rs[s.into]?.merge(rs[s.from]?.head() as CID);
        }
        await rs[0].merge(rs[1].head());
        await rs[0].merge(rs[2].head());
        await rs[1].merge(rs[0].head());
        await rs[2].merge(rs[1].head());
        expect(new Set(rs.map((r) => r.head().toString())).size).toBe(1);
        // The same leaves, each added on its own and merged in reverse order on another
        // store, give the same root.
        const leaves = await rs[0].leaves();
        const other = createMemoryStore();
        const rebuilt = await createGoho(other, { name: 'trie-test' });
        for (const leaf of [...leaves].reverse()) {
          const one = await openGoho(other, rebuilt.origin());
          await rebuilt.merge(await one.append(leaf));
        }
        expect(rebuilt.head().toString()).toBe(rs[0].head().toString());
        const values = await Promise.all([...rs, rebuilt].map((r) => r.value()));
        for (const v of values) expect(v).toEqual(fold(leaves));
      }),
      { numRuns: 60 },
    );
  });

  it('merge is commutative, associative and idempotent at sizes that branch', async () => {
    const setArb = fc.array(leafArb, { minLength: 0, maxLength: 120 });
    await fc.assert(
      fc.asyncProperty(setArb, setArb, setArb, async (la, lb, lc) => {
        const { store, origin } = await fresh();
        const at = async (leaves: LeafInput[]) => {
          const g = await openGoho(store, origin);
          await g.appendAll(leaves);
          return g.head();
        };
        const [A, B, C] = [await at(la), await at(lb), await at(lc)];
        const merged = async (h: CID, ...others: CID[]) => {
          const g = await openGoho(store, origin, h);
          for (const o of others) await g.merge(o);
          return g.head().toString();
        };
        expect(await merged(A, B)).toBe(await merged(B, A));
        const bc = await openGoho(store, origin, B);
        await bc.merge(C);
        const ab = await openGoho(store, origin, A);
        await ab.merge(B);
        expect(await merged(A, bc.head())).toBe(await merged(ab.head(), C));
        expect(await merged(A, A)).toBe(A.toString());
        expect(await merged(A, B, A, B)).toBe(await merged(A, B));
      }),
      { numRuns: 40 },
    );
  });

  it('writes O(log n) blocks per append and never a block over 1 MiB', async () => {
    const { store, g } = await fresh();
    await g.appendAll(many(5000));
    const before = store.held.size;
    for (let i = 0; i < 20; i++) await g.append(many(1, 10_000 + i)[0] as LeafInput);
    const perAppend = (store.held.size - before) / 20;
    // leaf + root + one node per level: 5000 leaves / 32 per bucket ≈ 16^2 buckets → 3 levels
    expect(perAppend).toBeLessThanOrEqual(6);
    const largest = Math.max(...[...store.held.values()].map((b) => b.bytes.byteLength));
    expect(largest).toBeLessThan(8 * 1024);
    expect(g.size()).toBe(5020);
  });

  it('answers membership and "added since" from the differing paths only', async () => {
    const { store, origin, g } = await fresh();
    await g.appendAll(many(3000));
    const old = g.head();
    await g.appendAll(many(7, 5000));
    const reads: string[] = [];
    const counting = countReads(store, reads);
    const cold = await openGoho(counting, origin, g.head());
    const delta = await cold.since(old);
    expect(delta.leaves).toHaveLength(7);
    expect(reads.length).toBeLessThan(7 * 4 * 2 + 10);
    const absent = cidOf(DAG_JSON, dagJson.encode({ never: 'appended' }));
    for (const leaf of delta.leaves) expect(await g.has(leaf)).toBe(true);
    expect(await g.has(absent)).toBe(false);
    expect((await g.since(origin)).leaves).toHaveLength(3007);
    expect(await g.since(g.head())).toEqual({ leaves: [], blocks: [] });
  });

  it('merges two heads differing by k leaves with O(k log n) reads', async () => {
    const { store, origin, g } = await fresh();
    await g.appendAll(many(4000));
    const base = g.head();
    const peer = await openGoho(store, origin, base);
    await peer.appendAll(many(5, 9000));
    await g.appendAll(many(5, 8000));
    const reads: string[] = [];
    const counting = countReads(store, reads);
    const mine = await openGoho(counting, origin, g.head());
    await mine.merge(peer.head());
    expect(mine.size()).toBe(4010);
    expect(reads.length).toBeLessThan(5 * 2 * 5 + 20);
  });

  it('keeps value() incremental: no leaf is read again after an append', async () => {
    const { store, origin, g } = await fresh();
    await g.appendAll(many(500));
    const reads: string[] = [];
    const counting = countReads(store, reads);
    const h = await openGoho(counting, origin, g.head());
    expect(((await h.value()).get('available') as unknown[]).length).toBe(500);
    reads.length = 0;
    await h.append(many(1, 600)[0] as LeafInput);
    expect(((await h.value()).get('available') as unknown[]).length).toBe(501);
    expect(reads.length).toBeLessThanOrEqual(4);
  });

  it('splits a bucket only past BUCKET_MAX', async () => {
    const { store, g } = await fresh();
    await g.appendAll(many(BUCKET_MAX));
    const root = (await store.getDag(g.head())) as { tree: CID };
    expect(Object.keys((await store.getDag(root.tree)) as object)).toEqual(['bucket']);
    await g.append(many(1, 99)[0] as LeafInput);
    const root2 = (await store.getDag(g.head())) as { tree: CID };
    expect(Object.keys((await store.getDag(root2.tree)) as object)).toEqual(['branch']);
  });
});
