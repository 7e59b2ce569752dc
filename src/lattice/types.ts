import type { CID } from 'multiformats/cid';
import type { Leaf } from './schema.ts';

export type { Leaf } from './schema.ts';

/** What a caller appends; `clock` defaults to one more than any clock this replica has seen. */
export type LeafInput = Omit<Leaf, 'clock'> & { clock?: number };

/** The fold of the leaves: path -> value (a `set` winner or the array of `append`s). */
export type GohoValue = ReadonlyMap<string, unknown>;

/**
 * A Grow Only Hash Object: a grow-only set of leaves behind a root block. `origin` never
 * changes; `head` is the current root. Equal leaf sets give equal heads on every node.
 */
export interface Goho {
  origin(): CID;
  head(): CID;
  /** Adds one leaf; returns the new head (the same head if the leaf adds nothing). */
  append(leaf: LeafInput, opts?: { signal?: AbortSignal }): Promise<CID>;
  /** Unions another head of the same origin into this one; returns the resulting head. */
  merge(otherHead: CID, opts?: { signal?: AbortSignal }): Promise<CID>;
  /** Every leaf, in canonical order (by leaf CID string). */
  leaves(opts?: { signal?: AbortSignal }): Promise<Leaf[]>;
  value(opts?: { signal?: AbortSignal }): Promise<GohoValue>;
}
