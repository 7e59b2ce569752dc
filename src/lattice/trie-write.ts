import type { CID } from 'multiformats/cid';
import { assertSupported, DAG_JSON } from '../store/cid.ts';
import type { Budget } from './budget.ts';
import { BadBlockError } from './errors.ts';
import {
  BUCKET_MAX,
  groupByNibble,
  isBucket,
  MAX_DEPTH,
  nibble,
  type Ref,
  sortCids,
  type TrieIo,
} from './trie-node.ts';

/** `offline`: read only local blocks (ReadOpts). */
export type TrieOpts = { signal?: AbortSignal; budget?: Budget; offline?: boolean };
/** A new trie root and the leaves it has that the old one had not. */
export interface Grown {
  ref: Ref;
  added: CID[];
}

/** The canonical node for a set of leaves that all belong at `depth`. */
async function build(io: TrieIo, leaves: CID[], depth: number, o: TrieOpts): Promise<CID> {
  if (leaves.length <= BUCKET_MAX || depth >= MAX_DEPTH) {
    return io.put({ bucket: sortCids(leaves) }, o);
  }
  const branch: Ref[] = new Array(16).fill(null);
  for (const [i, group] of groupByNibble(leaves, depth)) {
    branch[i] = await build(io, group, depth + 1, o);
  }
  return io.put({ branch }, o);
}

/** Adds leaves (unique, all belonging at `depth`) below ref; writes only the changed path. */
export async function insert(
  io: TrieIo,
  ref: Ref,
  leaves: CID[],
  depth: number,
  o: TrieOpts = {},
): Promise<Grown> {
  if (leaves.length === 0) return { ref, added: [] };
  if (ref === null) return { ref: await build(io, leaves, depth, o), added: leaves };
  const node = await io.get(ref, o);
  if (isBucket(node)) {
    const have = new Set(node.bucket.map(String));
    const added = leaves.filter((l) => !have.has(l.toString()));
    if (added.length === 0) return { ref, added };
    return { ref: await build(io, [...node.bucket, ...added], depth, o), added };
  }
  const branch = [...node.branch];
  const added: CID[] = [];
  for (const [i, group] of groupByNibble(leaves, depth)) {
    const grown = await insert(io, branch[i] ?? null, group, depth + 1, o);
    branch[i] = grown.ref;
    added.push(...grown.added);
  }
  if (added.length === 0) return { ref, added };
  return { ref: await io.put({ branch }, o), added };
}

/**
 * Unions a peer's trie (`theirs`, read through the budget) into ours. Equal subtrees are
 * skipped unread, so two heads differing by k leaves cost O(k log n) reads. A peer's
 * subtree taken as it is gets walked and checked to be canonical first, so a hostile head
 * cannot make equal sets differ; its leaves must sit where their digests say.
 */
export async function mergeTrie(
  io: TrieIo,
  ours: Ref,
  theirs: Ref,
  o: TrieOpts = {},
  depth = 0,
  path: number[] = [],
): Promise<Grown> {
  if (theirs === null || ours?.equals(theirs)) return { ref: ours, added: [] };
  const node = await io.get(theirs, o);
  if (isBucket(node)) {
    checkPlaced(node.bucket, depth, path);
    return insert(io, ours, node.bucket, depth, o);
  }
  if (ours === null) return { ref: theirs, added: await adopt(io, theirs, depth, path, o) };
  const mine = await io.get(ours, o);
  if (isBucket(mine)) {
    const all = await adopt(io, theirs, depth, path, o);
    const have = new Set(all.map(String));
    const grown = await insert(
      io,
      theirs,
      mine.bucket.filter((l) => !have.has(l.toString())),
      depth,
      o,
    );
    const had = new Set(mine.bucket.map(String));
    return { ref: grown.ref, added: all.filter((l) => !had.has(l.toString())) };
  }
  // Children are independent: reading them side by side hides the fetch latency.
  const grown = await Promise.all(
    mine.branch.map((child, i) =>
      mergeTrie(io, child, node.branch[i] ?? null, o, depth + 1, [...path, i]),
    ),
  );
  const branch = grown.map((g) => g.ref);
  const added = grown.flatMap((g) => g.added);
  if (added.length === 0) return { ref: ours, added };
  return { ref: await io.put({ branch }, o), added };
}

/** Every leaf below a peer's subtree, checking that the subtree is the canonical one. */
async function adopt(
  io: TrieIo,
  ref: CID,
  depth: number,
  path: number[],
  o: TrieOpts,
): Promise<CID[]> {
  const node = await io.get(ref, o);
  if (isBucket(node)) {
    checkPlaced(node.bucket, depth, path);
    return node.bucket;
  }
  if (depth >= MAX_DEPTH)
    throw new BadBlockError(`GOHO trie node ${ref} is deeper than ${MAX_DEPTH}`);
  const below = await Promise.all(
    node.branch.map((child, i) => (child ? adopt(io, child, depth + 1, [...path, i], o) : [])),
  );
  const all = below.flat();
  if (all.length <= BUCKET_MAX) {
    throw new BadBlockError(`GOHO trie node ${ref} splits ${all.length} leaves: not canonical`);
  }
  return all;
}

/** Leaves must be sha2-256 dag-json CIDs whose digests lead to where they are. */
function checkPlaced(leaves: readonly CID[], depth: number, path: readonly number[]): void {
  for (const leaf of leaves) {
    try {
      assertSupported(leaf);
    } catch (err) {
      throw new BadBlockError(`GOHO leaf ${leaf} has an unsupported CID`, { cause: err });
    }
    if (leaf.code !== DAG_JSON || leaf.version !== 1) {
      throw new BadBlockError(`GOHO leaf ${leaf} is not a dag-json CIDv1`);
    }
    for (let d = 0; d < depth; d++) {
      if (nibble(leaf, d) !== path[d]) {
        throw new BadBlockError(`GOHO leaf ${leaf} is misplaced in the trie`);
      }
    }
  }
}
