import type { CID } from 'multiformats/cid';
import { isBucket, nibble, type Ref, type TrieIo } from './trie-node.ts';
import type { TrieOpts } from './trie-write.ts';

/** Whether a leaf is in the trie: one node per level. */
export async function hasLeaf(
  io: TrieIo,
  ref: Ref,
  leaf: CID,
  o: TrieOpts = {},
  from = 0,
): Promise<boolean> {
  for (let depth = from; ref !== null; depth++) {
    const node = await io.get(ref, o);
    if (isBucket(node)) return node.bucket.some((l) => l.equals(leaf));
    ref = node.branch[nibble(leaf, depth)] ?? null;
  }
  return false;
}

/** Every leaf and every node below ref. */
export async function walk(
  io: TrieIo,
  ref: Ref,
  out: Delta = { leaves: [], nodes: [] },
  o: TrieOpts = {},
): Promise<Delta> {
  if (ref === null) return out;
  out.nodes.push(ref);
  const node = await io.get(ref, o);
  if (isBucket(node)) out.leaves.push(...node.bucket);
  else await Promise.all(node.branch.map((child) => walk(io, child, out, o)));
  return out;
}

/** What one trie has that another has not: its leaves and the nodes that hold them. */
export interface Delta {
  leaves: CID[];
  nodes: CID[];
}

/**
 * The leaves and nodes of `newer` that are not in `older`. Equal subtrees are skipped, so
 * k differing leaves cost O(k log n) node reads.
 */
export async function diff(
  io: TrieIo,
  newer: Ref,
  older: Ref,
  o: TrieOpts = {},
  depth = 0,
  out: Delta = { leaves: [], nodes: [] },
): Promise<Delta> {
  if (newer === null || (older !== null && newer.equals(older))) return out;
  if (older === null) return walk(io, newer, out, o);
  out.nodes.push(newer);
  const n = await io.get(newer, o);
  const old = await io.get(older, o);
  if (isBucket(n)) {
    for (const leaf of n.bucket)
      if (!(await hasLeaf(io, older, leaf, o, depth))) out.leaves.push(leaf);
    return out;
  }
  if (isBucket(old)) {
    const had = new Set(old.bucket.map(String));
    const below = await walk(io, newer, { leaves: [], nodes: [] }, o);
    out.nodes.push(...below.nodes.slice(1));
    out.leaves.push(...below.leaves.filter((l) => !had.has(l.toString())));
    return out;
  }
  await Promise.all(
    n.branch.map((child, i) => diff(io, child, old.branch[i] ?? null, o, depth + 1, out)),
  );
  return out;
}
