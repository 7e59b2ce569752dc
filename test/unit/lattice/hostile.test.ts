/**
 * Heads from a hostile or broken peer: a merge that meets a non-canonical trie, a misplaced
 * leaf, an oversize block or a DAG bomb is rejected whole, and the GOHO keeps its head.
 */
import type { CID } from 'multiformats/cid';
import { describe, expect, it } from 'vitest';
import {
  createGoho,
  type Goho,
  type LeafInput,
  MAX_BLOCK_BYTES,
  maxLeafClock,
} from '../../../src/lattice/index.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';

const leaf = (i: number): LeafInput => ({
  path: 'p',
  action: 'append',
  value: i,
  author: '@evil:h',
});

async function setup() {
  const store = createMemoryStore();
  const g = await createGoho(store, { name: 'hostile' });
  await g.append(leaf(-1));
  return { store, g, origin: g.origin(), head: g.head() };
}

const headOf = (store: ReturnType<typeof createMemoryStore>, origin: CID, tree: CID, size = 1) =>
  store.putDag({ type: 'goho', version: 2, origin, size, clock: 1, tree });

async function rejects(g: Goho, head: CID, bad: CID, code: string) {
  await expect(g.merge(bad)).rejects.toMatchObject({ code });
  expect(g.head().equals(head)).toBe(true);
}

describe('merging a hostile head', () => {
  it('rejects a branch that splits too few leaves (not canonical)', async () => {
    const { store, g, origin, head } = await setup();
    const l = await store.putDag({
      path: 'p',
      action: 'append',
      value: 1,
      clock: 1,
      author: '@e:h',
    });
    const bucket = await store.putDag({ bucket: [l] });
    const branch: (CID | null)[] = new Array(16).fill(null);
    const digit = (l.multihash.digest[0] ?? 0) >> 4;
    branch[digit] = bucket;
    const inner = await store.putDag({ branch });
    const fresh = await createGoho(store, { name: 'hostile-2' });
    await rejects(fresh, fresh.head(), await headOf(store, fresh.origin(), inner), 'BAD_BLOCK');
    await rejects(g, head, await headOf(store, origin, inner), 'BAD_BLOCK');
  });

  it('rejects a leaf placed where its digest does not lead', async () => {
    const { store, g, origin, head } = await setup();
    const l = await store.putDag({
      path: 'p',
      action: 'append',
      value: 2,
      clock: 1,
      author: '@e:h',
    });
    const wrong = ((l.multihash.digest[0] ?? 0) >> 4) ^ 1;
    const branch: (CID | null)[] = new Array(16).fill(null);
    branch[wrong] = await store.putDag({ bucket: [l] });
    await rejects(
      g,
      head,
      await headOf(store, origin, await store.putDag({ branch })),
      'BAD_BLOCK',
    );
  });

  it('rejects leaves that are not leaves, and trie nodes that are not nodes', async () => {
    const { store, g, origin, head } = await setup();
    const notLeaf = await store.putDag({ hello: 'world' });
    await rejects(
      g,
      head,
      await headOf(store, origin, await store.putDag({ bucket: [notLeaf] })),
      'BAD_BLOCK',
    );
    await rejects(
      g,
      head,
      await headOf(store, origin, await store.putDag({ bucket: 'x' })),
      'BAD_BLOCK',
    );
    await rejects(
      g,
      head,
      await store.putDag({ type: 'goho', version: 2, origin, size: -1 }),
      'BAD_BLOCK',
    );
    const raw = await store.addBytes(new TextEncoder().encode('raw'));
    await rejects(g, head, raw, 'BAD_BLOCK');
    const other = await createGoho(store, { name: 'someone else' });
    await other.append(leaf(1));
    await rejects(g, head, other.head(), 'BAD_INPUT');
  });

  it('rejects a block over 1 MiB', async () => {
    const { store, g, origin, head } = await setup();
    const huge = await store.putDag({
      path: 'p',
      action: 'set',
      value: 'x'.repeat(MAX_BLOCK_BYTES),
      clock: 1,
      author: '@e:h',
    });
    await rejects(
      g,
      head,
      await headOf(store, origin, await store.putDag({ bucket: [huge] })),
      'TOO_LARGE',
    );
    await expect(
      g.append({ ...leaf(0), value: 'x'.repeat(MAX_BLOCK_BYTES) }),
    ).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
  });

  it('rejects a leaf whose clock would leave no clock for the next append', async () => {
    const { store, g, origin, head } = await setup();
    const wild = { path: 'x', action: 'append', value: 0, author: '@evil:h' };
    const tree = async (clock: number) =>
      headOf(
        store,
        origin,
        await store.putDag({ bucket: [await store.putDag({ ...wild, clock })] }),
      );
    await rejects(g, head, await tree(Number.MAX_SAFE_INTEGER), 'BAD_INPUT');
    // Nor can this node write one, which every peer would refuse.
    await expect(g.append({ ...leaf(0), clock: maxLeafClock(2) + 1 })).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
    // The highest clock a merge takes still leaves room for the next appends, which a peer
    // then merges as well.
    await g.merge(await tree(maxLeafClock(2)));
    await g.append(leaf(1));
    const peer = await createGoho(store, { name: 'hostile' });
    await peer.merge(g.head());
    expect([g.size(), peer.size()]).toEqual([3, 3]);
  });

  it('stops a DAG bomb at the block budget', async () => {
    const { store, origin } = await setup();
    const big = await createGoho(store, { name: 'hostile' });
    await big.appendAll(Array.from({ length: 2000 }, (_, i) => leaf(i)));
    const g = await createGoho(store, { name: 'hostile' });
    await g.append(leaf(-2));
    const head = g.head();
    await expect(g.merge(big.head(), { budget: { maxBlocks: 500 } })).rejects.toMatchObject({
      code: 'TOO_LARGE',
    });
    expect(g.head().equals(head)).toBe(true);
    await expect(g.merge(big.head(), { budget: { maxBytes: 10_000 } })).rejects.toMatchObject({
      code: 'TOO_LARGE',
    });
    expect((await g.merge(big.head())).equals(head)).toBe(false);
    expect(origin.equals(g.origin())).toBe(true);
  });
});

describe('writing a value dag-json would read back otherwise', () => {
  // dag-json reads {"/": "..."} as a link and {"/": {"bytes": "..."}} as bytes: written as
  // given, the first is a block no peer can read, the second reads back as something else.
  it.each([
    ['a link-shaped map', { '/': 'x' }],
    ['a bytes-shaped map', { '/': { bytes: 'AA' } }],
    ['a nested one', { rows: [1, { deep: { '/': 1, other: 2 } }] }],
    // 4000 levels ran dag-json's encoder out of stack (a RangeError, not a refusal).
    ['lists nested past the limit', JSON.parse(`${'['.repeat(4000)}1${']'.repeat(4000)}`)],
  ])('refuses %s, and the GOHO keeps its head', async (_name, value) => {
    const { g, head } = await setup();
    await expect(g.append({ ...leaf(0), value })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    expect(g.head().equals(head)).toBe(true);
  });

  it('takes links and bytes themselves, which a peer reads back the same', async () => {
    const { store, g, origin } = await setup();
    await g.append({ ...leaf(0), value: { link: origin, bytes: new Uint8Array([1, 2]) } });
    const peer = await createGoho(store, { name: 'hostile' });
    await peer.merge(g.head());
    expect(peer.head().equals(g.head())).toBe(true);
  });
});
