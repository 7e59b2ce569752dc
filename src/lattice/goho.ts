import type { CID } from 'multiformats/cid';
import { BadInputError } from '../errors/index.ts';
import type { Store } from '../store/types.ts';
import { mapLimit, readLeaf, readRoot } from './blocks.ts';
import { fold } from './fold.ts';
import { LeafSet } from './leaf-set.ts';
import { type Leaf, leafSchema, originRootSchema } from './schema.ts';
import type { Goho, GohoValue, LeafInput } from './types.ts';

type Opts = { signal?: AbortSignal };
const FETCH_CONCURRENCY = 16;

/** Creates (or re-creates: the origin depends only on the name) an empty GOHO. */
export async function createGoho(
  store: Store,
  init: { name: string },
  opts: Opts = {},
): Promise<Goho> {
  const parsed = originRootSchema.safeParse({
    type: 'goho',
    origin: null,
    name: init.name,
    leaves: [],
  });
  if (!parsed.success) throw new BadInputError(`invalid GOHO name: ${JSON.stringify(init.name)}`);
  const origin = await store.putDag(parsed.data, opts);
  return gohoAt(store, origin, origin, new LeafSet());
}

/** Opens a GOHO at a known head (default: its origin); blocks come through the store. */
export async function openGoho(
  store: Store,
  origin: CID,
  head: CID = origin,
  opts: Opts = {},
): Promise<Goho> {
  const first = await readRoot(store, origin, opts);
  if (first.origin !== null) throw new BadInputError(`${origin} is not the origin of a GOHO`);
  if (head.equals(origin)) return gohoAt(store, origin, origin, new LeafSet());
  const root = await readRoot(store, head, opts);
  if (root.origin === null || !root.origin.equals(origin)) {
    throw new BadInputError(`${head} is not a head of the GOHO ${origin}`);
  }
  return gohoAt(store, origin, head, new LeafSet(root.leaves));
}

function gohoAt(store: Store, origin: CID, initialHead: CID, set: LeafSet): Goho {
  let head = initialHead;
  let memo: { head: CID; value: GohoValue } | undefined;
  let tail: Promise<unknown> = Promise.resolve();
  // Appends and merges run one at a time so no leaf is lost between read and write.
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = tail.then(fn, fn);
    tail = run.catch(() => {});
    return run;
  };

  const decodeAll = async (opts: Opts) => {
    const missing = set.undecoded();
    const leaves = await mapLimit(missing, FETCH_CONCURRENCY, (cid) => readLeaf(store, cid, opts));
    for (const [i, cid] of missing.entries()) set.remember(cid, leaves[i] as Leaf);
  };

  // The root is written before the set changes, so an abort or a failed write leaves
  // head and set as they were.
  const commit = async (added: { cid: CID; leaf: Leaf }[], opts: Opts) => {
    opts.signal?.throwIfAborted();
    const leaves = set.cidsWith(added.map((a) => a.cid));
    const next = await store.putDag({ type: 'goho', origin, leaves }, opts);
    for (const { cid, leaf } of added) {
      set.addCid(cid);
      set.remember(cid, leaf);
    }
    head = next;
    return head;
  };

  return {
    origin: () => origin,
    head: () => head,
    append: (input, opts = {}) =>
      serial(async () => {
        await decodeAll(opts);
        const leaf = toLeaf(input, set.maxClock() + 1);
        if (
          leaf.action === 'append' &&
          leaf.key !== undefined &&
          set.hasKeyedAppend(leaf.path, leaf.key)
        ) {
          return head;
        }
        const cid = await store.putDag(leaf, opts);
        if (set.has(cid)) return head;
        return commit([{ cid, leaf }], opts);
      }),
    merge: (other, opts = {}) =>
      serial(async () => {
        if (other.equals(head) || other.equals(origin)) return head;
        const root = await readRoot(store, other, opts);
        if (root.origin === null || !root.origin.equals(origin)) {
          throw new BadInputError(`${other} is not a head of the GOHO ${origin}`);
        }
        const missing = root.leaves.filter((cid) => !set.has(cid));
        if (missing.length === 0) return head;
        // Validate every new leaf before the set changes: a bad leaf rejects the whole merge.
        const leaves = await mapLimit(missing, FETCH_CONCURRENCY, (cid) =>
          readLeaf(store, cid, opts),
        );
        return commit(
          missing.map((cid, i) => ({ cid, leaf: leaves[i] as Leaf })),
          opts,
        );
      }),
    leaves: (opts = {}) =>
      serial(async () => {
        await decodeAll(opts);
        return set.leaves();
      }),
    value: (opts = {}) =>
      serial(async () => {
        if (memo?.head.equals(head)) return memo.value;
        await decodeAll(opts);
        memo = { head, value: fold(set.leaves()) };
        return memo.value;
      }),
  };
}

function toLeaf(input: LeafInput, nextClock: number): Leaf {
  const { clock, key, ...rest } = input;
  const candidate = { ...rest, clock: clock ?? nextClock, ...(key === undefined ? {} : { key }) };
  const parsed = leafSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BadInputError(
      `invalid leaf at ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    );
  }
  return parsed.data;
}
