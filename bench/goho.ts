/**
 * GOHO append and merge cost as the leaf set grows, next to the naive GOHO (whole leaf set
 * in one root block) measured in the same run on the same on-disk helia store.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dagJson from '@ipld/dag-json';
import { createGoho, type LeafInput, openGoho } from '../src/lattice/index.ts';
import { cidOf, DAG_JSON } from '../src/store/cid.ts';
import { createStore } from '../src/store/index.ts';
import type { Store } from '../src/store/types.ts';
import { NaiveGoho } from './goho-naive.ts';
import { type Benchmark, type Figure, figure, percentile } from './harness.ts';

const SIZES = (process.env.MESHBOT_BENCH_GOHO_SIZES ?? '1000,10000,100000').split(',').map(Number);
const APPENDS = Number(process.env.MESHBOT_BENCH_GOHO_APPENDS ?? 100);
const WARMUP = 10;
const MERGE_AT = 10_000;
const MERGE_K = [1, 10, 100, 1000];

const leaf = (i: number, author = '@bench:h'): LeafInput => ({
  path: 'available',
  action: 'append',
  value: `task-${i}`,
  key: `task-${i}`,
  author,
});

/** Counts what goes into and out of a store. */
function metered(store: Store) {
  const m = { puts: 0, putBytes: 0, gets: 0 };
  const wrapped: Store = {
    ...store,
    putBlock: (cid, bytes, o) => {
      m.puts++;
      m.putBytes += bytes.byteLength;
      return store.putBlock(cid, bytes, o);
    },
    putDag: async (value, o) => {
      const bytes = dagJson.encode(value);
      const cid = cidOf(DAG_JSON, bytes);
      await wrapped.putBlock(cid, bytes, o);
      return cid;
    },
    getBlock: (cid, o) => {
      m.gets++;
      return store.getBlock(cid, o);
    },
  };
  return { store: wrapped, m };
}

/** The median time of n runs: other work on the machine shows up as outliers. */
async function timeEach(n: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    times.push(performance.now() - t);
  }
  return percentile(times, 50);
}

async function appendAt(base: Store, n: number): Promise<Figure[]> {
  const { store, m } = metered(base);
  const g = await createGoho(store, { name: `bench-${n}` });
  await g.appendAll(Array.from({ length: n }, (_, i) => leaf(i)));
  await timeEach(WARMUP, (i) => g.append(leaf(2 * n + i)));
  m.puts = 0;
  m.putBytes = 0;
  const trieMs = await timeEach(APPENDS, (i) => g.append(leaf(n + i)));
  const trieBlocks = m.puts / APPENDS;
  const trieBytes = m.putBytes / APPENDS;

  const cids = Array.from({ length: n }, (_, i) =>
    cidOf(DAG_JSON, dagJson.encode({ ...leaf(i), clock: i + 1 })),
  );
  const naive = new NaiveGoho(store, g.origin(), cids);
  await naive.commit();
  await timeEach(WARMUP, (i) => naive.append({ ...leaf(2 * n + i), clock: 2 * n + i }));
  m.puts = 0;
  m.putBytes = 0;
  const naiveMs = await timeEach(APPENDS, (i) => naive.append({ ...leaf(n + i), clock: n + i }));
  const label = n.toExponential(0).replace('+', '');
  return [
    figure(`append time, ${label} leaves (trie vs whole set)`, 'ms', trieMs, naiveMs),
    figure(`new blocks per append, ${label} leaves`, 'blocks', trieBlocks, m.puts / APPENDS),
    figure(`bytes written per append, ${label} leaves`, 'bytes', trieBytes, m.putBytes / APPENDS),
  ];
}

async function mergeCosts(base: Store): Promise<Figure[]> {
  const { store, m } = metered(base);
  const g = await createGoho(store, { name: 'bench-merge' });
  await g.appendAll(Array.from({ length: MERGE_AT }, (_, i) => leaf(i)));
  const baseHead = g.head();
  const cids = (await g.leaves()).map((l) => cidOf(DAG_JSON, dagJson.encode(l)));
  const figures: Figure[] = [];
  for (const k of MERGE_K) {
    const peer = await openGoho(store, g.origin(), baseHead);
    await peer.appendAll(Array.from({ length: k }, (_, i) => leaf(MERGE_AT * 2 + k + i, '@p:h')));
    const fresh = (await peer.since(baseHead)).leaves;
    // A replica at the base head merges the peer's head. Like a running node, it has its
    // own trie cached (it built it); the peer's differing nodes and new leaves are read.
    const mine = await openGoho(store, g.origin(), baseHead);
    await mine.since(g.origin());
    m.gets = 0;
    let t = performance.now();
    await mine.merge(peer.head());
    const trieMs = performance.now() - t;
    const trieReads = m.gets;

    const theirs = new NaiveGoho(store, g.origin(), [...cids, ...fresh]);
    await theirs.commit();
    const naive = new NaiveGoho(store, g.origin(), cids);
    m.gets = 0;
    t = performance.now();
    const { added } = await naive.merge(theirs.head);
    // The naive merge must then read each new leaf, as the trie merge does.
    for (const c of fresh) await store.getBlock(c);
    const naiveMs = performance.now() - t;
    if (added !== k) throw new Error(`naive merge added ${added}, expected ${k}`);
    figures.push(
      figure(`merge, heads differing by ${k} of ${MERGE_AT} leaves`, 'ms', trieMs, naiveMs),
      figure(`blocks read to merge ${k} new leaves`, 'blocks', trieReads, m.gets),
    );
  }
  return figures;
}

/** Fills the store's shard directories, so the first size measured pays no mkdir. */
async function warmStore(store: Store): Promise<void> {
  const g = await createGoho(store, { name: 'bench-warm-up' });
  await g.appendAll(Array.from({ length: 5000 }, (_, i) => leaf(i, '@warm:h')));
}

export const gohoBenchmark: Benchmark = {
  name: 'goho',
  description: 'GOHO append and merge cost, trie vs whole leaf set in one block',
  async run() {
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-bench-goho-'));
    const store = createStore({ dir });
    await store.start();
    try {
      await warmStore(store);
      const figures: Figure[] = [];
      for (const n of SIZES) figures.push(...(await appendAt(store, n)));
      const first = figures[0];
      const last = figures[(SIZES.length - 1) * 3];
      if (first && last && SIZES.length > 1) {
        figures.push(
          figure(
            `append time growth, ${SIZES.at(-1)} / ${SIZES[0]} leaves (goal ≤ 3)`,
            'ms',
            last.value,
            first.value,
          ),
        );
      }
      figures.push(...(await mergeCosts(store)));
      return figures;
    } finally {
      await store.stop();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
