import * as dagJson from '@ipld/dag-json';
import type { CID } from 'multiformats/cid';
import { BadInputError, parseWith } from '../errors/index.ts';
import { cidOf, DAG_JSON } from '../store/cid.ts';
import type { Store } from '../store/types.ts';
import { mapLimit, readLeaf, readRoot } from './blocks.ts';
import { Budget, MAX_BLOCK_BYTES } from './budget.ts';
import { leafCidString } from './fold.ts';
import { FoldState } from './fold-state.ts';
import {
  type Leaf,
  leafSchema,
  maxLeafClock,
  originRootSchema,
  storableProblem,
} from './schema.ts';
import { type Ref, TrieIo } from './trie-node.ts';
import { diff, hasLeaf, walk } from './trie-read.ts';
import { insert, mergeTrie } from './trie-write.ts';
import type { Goho, GohoValue, LeafInput } from './types.ts';

type Opts = { signal?: AbortSignal };
const FETCH_CONCURRENCY = 16;

interface State {
  head: CID;
  tree: Ref;
  size: number;
  clock: number;
}

/** Creates (or re-creates: the origin depends only on the name) an empty GOHO. */
export async function createGoho(
  store: Store,
  init: { name: string },
  opts: Opts = {},
): Promise<Goho> {
  const parsed = originRootSchema.safeParse({
    type: 'goho',
    version: 2,
    origin: null,
    name: init.name,
  });
  if (!parsed.success) throw new BadInputError(`invalid GOHO name: ${JSON.stringify(init.name)}`);
  const origin = await store.putDag(parsed.data, opts);
  return gohoAt(store, origin, { head: origin, tree: null, size: 0, clock: 0 });
}

/** Opens a GOHO at a known head (default: its origin); reads two blocks, the rest lazily. */
export async function openGoho(
  store: Store,
  origin: CID,
  head: CID = origin,
  opts: Opts = {},
): Promise<Goho> {
  const first = await readRoot(store, origin, opts);
  if (first.origin !== null) throw new BadInputError(`${origin} is not the origin of a GOHO`);
  const empty = { head: origin, tree: null, size: 0, clock: 0 };
  if (head.equals(origin)) return gohoAt(store, origin, empty);
  const root = await readRoot(store, head, opts);
  if (root.origin === null || !root.origin.equals(origin)) {
    throw new BadInputError(`${head} is not a head of the GOHO ${origin}`);
  }
  return gohoAt(store, origin, { head, tree: root.tree, size: root.size, clock: root.clock });
}

function gohoAt(store: Store, origin: CID, initial: State): Goho {
  const io = new TrieIo(store);
  const fold = new FoldState();
  let state = initial;
  let loaded = initial.tree === null;
  let tail: Promise<unknown> = Promise.resolve();
  // Appends and merges run one at a time so no leaf is lost between read and write.
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => {});
    return run;
  };

  // Decodes every leaf once; after that, appends and merges keep the fold current.
  const ensureLoaded = async (o: Opts) => {
    if (loaded) return;
    const budget = new Budget({ maxBlocks: Infinity, maxBytes: Infinity });
    const { leaves } = await walk(io, state.tree, undefined, { signal: o.signal, budget });
    const missing = leaves.filter((c) => !fold.has(c.toString()));
    const decoded = await mapLimit(missing, FETCH_CONCURRENCY, (c) =>
      readLeaf(store, c, { signal: o.signal, budget }),
    );
    for (const [i, c] of missing.entries()) fold.add(c.toString(), decoded[i] as Leaf);
    loaded = true;
  };

  // The root is written before the state changes, so an abort or a failed write leaves
  // the GOHO as it was.
  const commit = async (tree: Ref, added: { cid: CID; leaf: Leaf }[], o: Opts) => {
    o.signal?.throwIfAborted();
    const size = state.size + added.length;
    const clock = added.reduce((m, a) => Math.max(m, a.leaf.clock), state.clock);
    const head = await store.putDag({ type: 'goho', version: 2, origin, size, clock, tree }, o);
    state = { head, tree, size, clock };
    for (const { cid, leaf } of added) fold.add(cid.toString(), leaf);
    return head;
  };

  const appendAll = (inputs: readonly LeafInput[], o: Opts = {}) =>
    serial(async () => {
      await ensureLoaded(o);
      const batch = prepare(inputs, fold, state.clock);
      if (batch.length === 0) return state.head;
      for (const b of batch) await store.putBlock(b.cid, b.bytes, o);
      const grown = await insert(
        io,
        state.tree,
        batch.map((b) => b.cid),
        0,
        o,
      );
      return commit(grown.ref, batch, o);
    });

  return {
    origin: () => origin,
    head: () => state.head,
    size: () => state.size,
    append: (input, o = {}) => appendAll([input], o),
    appendAll,
    merge: (other, o = {}) =>
      serial(async () => {
        if (other.equals(state.head) || other.equals(origin)) return state.head;
        const epoch = store.gcEpoch?.();
        const opts = { signal: o.signal, budget: new Budget(o.budget) };
        const root = await readRoot(store, other, opts);
        if (root.origin === null || !root.origin.equals(origin)) {
          throw new BadInputError(`${other} is not a head of the GOHO ${origin}`);
        }
        const grown = await mergeTrie(io, state.tree, root.tree, opts);
        if (grown.added.length === 0) return state.head;
        // Every new leaf is read and validated before the state changes.
        const leaves = await mapLimit(grown.added, FETCH_CONCURRENCY, (c) =>
          readLeaf(store, c, opts),
        );
        const size = state.size + leaves.length;
        for (const leaf of leaves) checkClock(leaf as Leaf, size);
        const added = grown.added.map((cid, i) => ({ cid, leaf: leaves[i] as Leaf }));
        // A garbage collection began meanwhile: the blocks this merge read or wrote before
        // are not the collection's to keep (no head it keeps reaches them yet).
        if (store.gcEpoch?.() !== epoch) {
          await keepLinked(store, io, grown.ref, state.tree, added, { signal: o.signal });
        }
        return commit(grown.ref, added, o);
      }),
    has: (leaf, o = {}) => hasLeaf(io, state.tree, leaf, o),
    async since(older, o = {}) {
      const now = state;
      if (older.equals(now.head)) return { leaves: [], blocks: [] };
      let olderTree: Ref = null;
      if (!older.equals(origin)) {
        const root = await readRoot(store, older, o);
        if (root.origin === null || !root.origin.equals(origin)) {
          throw new BadInputError(`${older} is not a head of the GOHO ${origin}`);
        }
        olderTree = root.tree;
      }
      const delta = await diff(io, now.tree, olderTree, o);
      return { leaves: delta.leaves, blocks: [now.head, ...delta.nodes, ...delta.leaves] };
    },
    leaves: (o = {}) =>
      serial(async () => {
        await ensureLoaded(o);
        const byCid = (a: Leaf, b: Leaf) => (leafCidString(a) < leafCidString(b) ? -1 : 1);
        return fold.leaves().sort(byCid);
      }),
    value: (o = {}): Promise<GohoValue> =>
      serial(async () => {
        await ensureLoaded(o);
        return fold.value();
      }),
    appended: (path, o = {}) =>
      serial(async () => {
        await ensureLoaded(o);
        return fold.appended(path);
      }),
  };
}

/**
 * Asks the store again for every block a new trie links to that `older` has not (noting it
 * for the collection running), and writes back the ones gone from what this node holds
 * decoded: the same value, the same bytes.
 */
async function keepLinked(
  store: Store,
  io: TrieIo,
  newer: Ref,
  older: Ref,
  added: readonly { cid: CID; leaf: Leaf }[],
  o: Opts,
): Promise<void> {
  // TrieIo checks each node it hands out against the store once the epoch changed.
  await diff(io, newer, older, o);
  for (const { cid, leaf } of added) {
    if (await store.hasBlock(cid, o)) continue;
    const bytes = dagJson.encode(leaf);
    if (cidOf(DAG_JSON, bytes).equals(cid)) await store.putBlock(cid, bytes, o);
    else await store.getBlock(cid, o);
  }
}

interface Prepared {
  cid: CID;
  leaf: Leaf;
  bytes: Uint8Array;
}

/** Validates and encodes new leaves; drops those the set (or the batch) already has. */
function prepare(inputs: readonly LeafInput[], fold: FoldState, rootClock: number): Prepared[] {
  let clock = Math.max(rootClock, fold.maxClock());
  const keys = new Set<string>();
  const cids = new Set<string>();
  const out: Prepared[] = [];
  for (const input of inputs) {
    const leaf = toLeaf(input, clock + 1, fold.size + out.length + 1);
    clock = Math.max(clock, leaf.clock);
    if (leaf.action === 'append' && leaf.key !== undefined) {
      const k = `${leaf.path}\n${leaf.key}`;
      if (fold.hasKeyedAppend(leaf.path, leaf.key) || keys.has(k)) continue;
      keys.add(k);
    }
    const bytes = dagJson.encode(leaf);
    if (bytes.byteLength > MAX_BLOCK_BYTES) {
      throw new BadInputError(`a leaf of ${bytes.byteLength} bytes is over the block limit`);
    }
    const cid = cidOf(DAG_JSON, bytes);
    const key = cid.toString();
    if (fold.has(key) || cids.has(key)) continue;
    cids.add(key);
    out.push({ cid, leaf, bytes });
  }
  return out;
}

/** `size`: the GOHO's, with this leaf. */
function toLeaf(input: LeafInput, nextClock: number, size: number): Leaf {
  const { clock, key, ...rest } = input;
  const candidate = { ...rest, clock: clock ?? nextClock, ...(key === undefined ? {} : { key }) };
  const leaf = parseWith(leafSchema, candidate, 'leaf');
  // A clock given by the writer: one past the bound would be refused by every peer.
  if (clock !== undefined) checkClock(leaf, size);
  const problem = storableProblem(leaf.value);
  if (problem) throw new BadInputError(`invalid leaf at ${leaf.path}: ${problem}`);
  return leaf;
}

function checkClock(leaf: Leaf, size: number): void {
  const max = maxLeafClock(size);
  if (leaf.clock > max) {
    throw new BadInputError(
      `a leaf at ${leaf.path} has clock ${leaf.clock}, past ${max} for a GOHO of ${size} leaves`,
    );
  }
}
