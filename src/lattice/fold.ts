import * as dagJson from '@ipld/dag-json';
import { cidOf, DAG_JSON } from '../store/cid.ts';
import type { Leaf } from './schema.ts';
import type { GohoValue } from './types.ts';

const cids = new WeakMap<Leaf, string>();

/** The CID string of a leaf's block; only needed to break (clock, author) ties. */
export function leafCidString(leaf: Leaf): string {
  let s = cids.get(leaf);
  if (s === undefined) {
    s = cidOf(DAG_JSON, dagJson.encode(leaf)).toString();
    cids.set(leaf, s);
  }
  return s;
}

/** Lets the GOHO, which already knows a leaf's CID, skip re-hashing it. */
export function rememberLeafCid(leaf: Leaf, cid: string): void {
  cids.set(leaf, cid);
}

const cmp = (a: string | number, b: string | number) => (a < b ? -1 : a > b ? 1 : 0);

/** Total order of leaves: clock, then author, then leaf CID string. */
export function compareLeaves(a: Leaf, b: Leaf): number {
  return (
    cmp(a.clock, b.clock) || cmp(a.author, b.author) || cmp(leafCidString(a), leafCidString(b))
  );
}

/**
 * The value of a leaf set. `set`: the greatest leaf wins. `append`: every value in leaf
 * order; appends sharing a `key` keep only the first. A path written both ways takes the
 * kind of its greatest leaf, so a later `set` replaces a list and a later `append` a value.
 */
export function fold(leaves: readonly Leaf[]): GohoValue {
  const byPath = new Map<string, Leaf[]>();
  for (const leaf of leaves) {
    const list = byPath.get(leaf.path);
    if (list) list.push(leaf);
    else byPath.set(leaf.path, [leaf]);
  }
  const value = new Map<string, unknown>();
  for (const path of [...byPath.keys()].sort(cmp)) {
    value.set(path, foldPath((byPath.get(path) as Leaf[]).sort(compareLeaves)));
  }
  return value;
}

/** The value of one path from its leaves, already sorted by compareLeaves. */
export function foldPath(ordered: readonly Leaf[]): unknown {
  const last = ordered[ordered.length - 1] as Leaf;
  return last.action === 'set' ? last.value : appended(ordered);
}

/** The appended values of one path's leaves, already sorted by compareLeaves. */
export function appended(ordered: readonly Leaf[]): unknown[] {
  const keys = new Set<string>();
  const out: unknown[] = [];
  for (const leaf of ordered) {
    if (leaf.action !== 'append') continue;
    if (leaf.key !== undefined) {
      if (keys.has(leaf.key)) continue;
      keys.add(leaf.key);
    }
    out.push(leaf.value);
  }
  return out;
}
