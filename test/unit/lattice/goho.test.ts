import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { CID } from 'multiformats/cid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareLeaves,
  createGoho,
  fold,
  type Goho,
  type Leaf,
  type LeafInput,
  openGoho,
} from '../../../src/lattice/index.ts';
import { createStore, type LocalStore } from '../../../src/store/index.ts';

let store: LocalStore;
let dir: string;
let runs = 0;
const fresh = () => createGoho(store, { name: `goho-test-${runs++}` });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshbot-goho-'));
  store = createStore({ dir });
  await store.start();
});
afterAll(async () => {
  await store.stop();
  await rm(dir, { recursive: true, force: true });
});

const leafArb: fc.Arbitrary<LeafInput> = fc.record(
  {
    path: fc.constantFrom('a', 'b', 'c/d'),
    action: fc.constantFrom('set', 'append'),
    value: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constantFrom('x', null, [1, 2], { k: 'v' })),
    key: fc.constantFrom('k1', 'k2'),
    author: fc.constantFrom('@x:h', '@y:h', '@z:h'),
    clock: fc.integer({ min: 0, max: 3 }),
  },
  { requiredKeys: ['path', 'action', 'value', 'author'] },
);

type Step =
  | { kind: 'append'; replica: number; leaf: LeafInput }
  | { kind: 'merge'; into: number; from: number };
const replica = fc.integer({ min: 0, max: 2 });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ kind: fc.constant('append' as const), replica, leaf: leafArb }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('merge' as const), into: replica, from: replica }),
  },
);

/** A naive restatement of the fold rules, to check `fold` against. */
async function expectedValue(leaves: Leaf[]): Promise<Map<string, unknown>> {
  const cid = new Map<Leaf, string>();
  for (const leaf of leaves) cid.set(leaf, (await store.putDag(leaf)).toString());
  const before = (a: Leaf, b: Leaf) =>
    a.clock !== b.clock
      ? a.clock < b.clock
      : a.author !== b.author
        ? a.author < b.author
        : (cid.get(a) as string) < (cid.get(b) as string);
  const out = new Map<string, unknown>();
  for (const path of new Set(leaves.map((l) => l.path))) {
    const mine = leaves.filter((l) => l.path === path);
    const greatest = mine.reduce((m, l) => (before(m, l) ? l : m));
    if (greatest.action === 'set') {
      out.set(path, greatest.value);
      continue;
    }
    const appends = mine.filter((l) => l.action === 'append');
    const firsts = appends.filter(
      (l) =>
        l.key === undefined || !appends.some((o) => o !== l && o.key === l.key && before(o, l)),
    );
    out.set(
      path,
      firsts.sort((a, b) => (before(a, b) ? -1 : 1)).map((l) => l.value),
    );
  }
  return out;
}

async function build(origin: CID, leaves: LeafInput[]): Promise<Goho> {
  const g = await openGoho(store, origin);
  for (const leaf of leaves) await g.append(leaf);
  return g;
}

const heads = (gs: Goho[]) => gs.map((g) => g.head().toString());

describe('GOHO', () => {
  it('converges: replicas that exchange heads end at one root CID and one value', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { maxLength: 18 }), async (steps) => {
        const origin = (await fresh()).origin();
        const rs = [
          await openGoho(store, origin),
          await openGoho(store, origin),
          await openGoho(store, origin),
        ];
        for (const step of steps) {
          if (step.kind === 'append') await rs[step.replica]?.append(step.leaf);
          else await rs[step.into]?.merge((rs[step.from] as Goho).head());
        }
        const [r0, r1, r2] = rs as [Goho, Goho, Goho];
        await r0.merge(r1.head());
        await r0.merge(r2.head());
        await r1.merge(r0.head());
        await r2.merge(r1.head());
        expect(new Set(heads(rs)).size).toBe(1);
        // a fourth replica merging in the opposite order reaches the same root
        const late = await openGoho(store, origin);
        for (const h of [r2, r1, r0].map((r) => r.head())) await late.merge(h);
        expect(late.head().toString()).toBe(r0.head().toString());
        // ... and so does reopening the head from disk
        const reopened = await openGoho(store, origin, r0.head());
        const values = await Promise.all([...rs, late, reopened].map((r) => r.value()));
        for (const v of values) expect(v).toEqual(values[0]);
        expect(values[0]).toEqual(await expectedValue(await r0.leaves()));
      }),
      { numRuns: 40 },
    );
  });

  it('merge is commutative, associative and idempotent', async () => {
    const setArb = fc.array(leafArb, { maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(setArb, setArb, setArb, async (la, lb, lc) => {
        const origin = (await fresh()).origin();
        const [a, b, c] = [
          await build(origin, la),
          await build(origin, lb),
          await build(origin, lc),
        ];
        const [A, B, C] = [a.head(), b.head(), c.head()];
        const merged = async (h: CID, ...others: CID[]) => {
          const g = await openGoho(store, origin, h);
          for (const o of others) await g.merge(o);
          return g.head().toString();
        };
        expect(await merged(A, B)).toBe(await merged(B, A));
        const bc = await openGoho(store, origin, B);
        await bc.merge(C);
        expect(await merged(A, B, C)).toBe(await merged(A, bc.head()));
        expect(await merged(A, A)).toBe(A.toString());
        expect(await merged(A, B, B, A)).toBe(await merged(A, B));
        expect(await merged(A, origin)).toBe(A.toString());
      }),
      { numRuns: 40 },
    );
  });

  it('gives equal roots for equal leaf sets whatever the insertion order', async () => {
    const withClock = leafArb.map((l) => ({ ...l, clock: l.clock ?? 1 }));
    await fc.assert(
      fc.asyncProperty(
        fc
          .array(withClock, { maxLength: 8 })
          .chain((ls) =>
            fc.tuple(fc.constant(ls), fc.shuffledSubarray(ls, { minLength: ls.length })),
          ),
        async ([ordered, shuffled]) => {
          const origin = (await fresh()).origin();
          const leaves = ordered.map(({ key: _key, ...rest }) => rest); // keyed appends would dedupe locally
          const shuffledLeaves = shuffled.map(({ key: _key, ...rest }) => rest);
          expect((await build(origin, leaves)).head().toString()).toBe(
            (await build(origin, shuffledLeaves)).head().toString(),
          );
        },
      ),
      { numRuns: 30 },
    );
  });

  it('keeps one append per key: the first by clock, author, leaf CID', async () => {
    const origin = (await fresh()).origin();
    const [bob, alice] = [await openGoho(store, origin), await openGoho(store, origin)];
    const before = bob.head();
    await bob.append({
      path: 'p',
      action: 'append',
      value: 'bob',
      key: 'k',
      author: '@bob:h',
      clock: 1,
    });
    const once = bob.head();
    expect(once.equals(before)).toBe(false);
    expect(
      (
        await bob.append({
          path: 'p',
          action: 'append',
          value: 'again',
          key: 'k',
          author: '@bob:h',
        })
      ).equals(once),
    ).toBe(true);
    await alice.append({
      path: 'p',
      action: 'append',
      value: 'alice',
      key: 'k',
      author: '@alice:h',
      clock: 1,
    });
    await alice.append({
      path: 'p',
      action: 'append',
      value: 'free',
      author: '@alice:h',
      clock: 0,
    });
    await bob.merge(alice.head());
    await alice.merge(bob.head());
    expect(bob.head().equals(alice.head())).toBe(true);
    expect((await bob.value()).get('p')).toEqual(['free', 'alice']);
    expect(await bob.leaves()).toHaveLength(3);
  });

  it('breaks set conflicts by clock, then author', async () => {
    const origin = (await fresh()).origin();
    const g = await openGoho(store, origin);
    await g.append({ path: 's', action: 'set', value: 'late', author: '@a:h', clock: 5 });
    await g.append({ path: 's', action: 'set', value: 'early', author: '@z:h', clock: 4 });
    await g.append({ path: 't', action: 'set', value: 'a', author: '@a:h', clock: 7 });
    await g.append({ path: 't', action: 'set', value: 'b', author: '@b:h', clock: 7 });
    const next = await g.append({ path: 'u', action: 'set', value: 1, author: '@a:h' });
    expect((await g.value()).get('s')).toBe('late');
    expect((await g.value()).get('t')).toBe('b');
    const leaves = await g.leaves();
    expect(leaves.find((l) => l.path === 'u')?.clock).toBe(8); // one past the highest clock seen
    expect(next.equals(g.head())).toBe(true);
    expect([...leaves].sort(compareLeaves).map((l) => l.clock)).toEqual([4, 5, 7, 7, 8]);
    expect(fold([])).toEqual(new Map());
  });

  it('fetches the blocks of a remote head through the store fetchers', async () => {
    const otherDir = await mkdtemp(join(tmpdir(), 'meshbot-goho-peer-'));
    const peer = createStore({ dir: otherDir });
    await peer.start();
    try {
      peer.addFetcher({
        name: 'main',
        fetch: (cid, { signal }) => store.getBlock(cid, { signal, offline: true }),
      });
      const mine = await fresh();
      await mine.append({ path: 'a', action: 'set', value: 1, author: '@me:h' });
      const theirs = await createGoho(peer, { name: `goho-test-${runs - 1}` });
      expect(theirs.origin().equals(mine.origin())).toBe(true); // same name, same origin
      expect((await theirs.merge(mine.head())).equals(mine.head())).toBe(true);
      expect((await theirs.value()).get('a')).toBe(1);
    } finally {
      await peer.stop();
      await rm(otherDir, { recursive: true, force: true });
    }
  });

  it('rejects hostile blocks with BAD_BLOCK and keeps its head', async () => {
    const g = await fresh();
    const origin = g.origin();
    await g.append({ path: 'a', action: 'set', value: 1, author: '@me:h' });
    const head = g.head();
    const notLeaf = await store.putDag({ hello: 'world' });
    const extraField = await store.putDag({
      path: 'a',
      action: 'set',
      value: 2,
      clock: 1,
      author: '@x:h',
      evil: true,
    });
    const goodLeaf = await store.putDag({
      path: 'b',
      action: 'set',
      value: 2,
      clock: 1,
      author: '@x:h',
    });
    const sorted = [notLeaf, goodLeaf].sort((x, y) => (x.toString() < y.toString() ? -1 : 1));
    const hostile = [
      await store.putDag({ type: 'goho', origin, leaves: sorted }),
      await store.putDag({ type: 'goho', origin, leaves: [extraField] }),
      await store.putDag({ type: 'goho', origin, leaves: [...sorted].reverse() }),
      await store.putDag({ type: 'goho', origin: 5, leaves: [] }),
      await store.putDag({ type: 'goho', origin, leaves: [goodLeaf, goodLeaf] }),
      await store.putDag('just a string'),
      await store.addBytes(new TextEncoder().encode('raw bytes')),
    ];
    for (const bad of hostile) {
      await expect(g.merge(bad)).rejects.toMatchObject({ code: 'BAD_BLOCK' });
      expect(g.head().equals(head)).toBe(true);
    }
    const other = await fresh();
    await other.append({ path: 'a', action: 'set', value: 1, author: '@me:h' });
    await expect(g.merge(other.head())).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(openGoho(store, head)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(
      g.append({ path: '/bad//path', action: 'set', value: 1, author: '@me:h' }),
    ).rejects.toMatchObject({ code: 'BAD_INPUT' });
    expect((await g.value()).get('a')).toBe(1);
  });
});
