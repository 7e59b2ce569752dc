import type { CID } from 'multiformats/cid';
import type { BudgetLimits } from './budget.ts';
import type { Leaf } from './schema.ts';

export type { Leaf } from './schema.ts';

/** What a caller appends; `clock` defaults to one more than any clock this replica has seen. */
export type LeafInput = Omit<Leaf, 'clock'> & { clock?: number };

/** The fold of the leaves: path -> value (a `set` winner or the array of `append`s). */
export type GohoValue = ReadonlyMap<string, unknown>;

type Opts = { signal?: AbortSignal };
export type MergeOpts = Opts & { budget?: Partial<BudgetLimits> };

/** The blocks a head has that an older head has not: what a peer at the older head needs. */
export interface HeadDelta {
  /** Leaf CIDs added since the older head. */
  leaves: CID[];
  /** The new root, then the new trie nodes, then the new leaves. */
  blocks: CID[];
}

/**
 * A Grow Only Hash Object: a grow-only set of leaves behind a root block. `origin` never
 * changes; `head` is the current root. Equal leaf sets give equal heads on every node.
 */
export interface Goho {
  origin(): CID;
  head(): CID;
  /** Number of leaves at the current head. */
  size(): number;
  /** Adds one leaf; returns the new head (the same head if the leaf adds nothing). */
  append(leaf: LeafInput, opts?: Opts): Promise<CID>;
  /** Adds leaves as one change (one new head); clocks default to consecutive values. */
  appendAll(leaves: readonly LeafInput[], opts?: Opts): Promise<CID>;
  /**
   * Unions another head of the same origin into this one; returns the resulting head.
   * Reads only where the heads differ, within the budget; a bad block rejects the whole merge.
   */
  merge(otherHead: CID, opts?: MergeOpts): Promise<CID>;
  /** Whether a leaf (by CID) is in the current head. */
  has(leaf: CID, opts?: Opts): Promise<boolean>;
  /**
   * What the current head adds to an older head of this GOHO (the origin for everything).
   * `offline`: from local blocks only; an older head whose blocks are not all here throws
   * NOT_FOUND at once instead of fetching them.
   */
  since(olderHead: CID, opts?: Opts & { offline?: boolean }): Promise<HeadDelta>;
  /** Every leaf, in canonical order (by leaf CID string). */
  leaves(opts?: Opts): Promise<Leaf[]>;
  value(opts?: Opts): Promise<GohoValue>;
  /**
   * Every value appended at `path`, in leaf order (keyed appends once), whatever `set` leaves
   * the path has: how a path that is a grow-only set by design is read, so that no `set` from
   * a peer can empty it.
   */
  appended(path: string, opts?: Opts): Promise<unknown[]>;
}
