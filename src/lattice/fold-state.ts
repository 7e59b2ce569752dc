import { appended, compareLeaves, foldPath, rememberLeafCid } from './fold.ts';
import type { Leaf } from './schema.ts';
import type { GohoValue } from './types.ts';

interface PathState {
  /** The path's leaves; sorted by compareLeaves unless `unsorted`. */
  leaves: Leaf[];
  unsorted: boolean;
  value: unknown;
  stale: boolean;
}

/**
 * The fold of a growing leaf set, kept up to date leaf by leaf: adding a leaf touches its
 * path only, and reading the value refolds only the paths that changed since the last read.
 * Gives the same value as `fold` over the same leaves.
 */
export class FoldState {
  readonly #paths = new Map<string, PathState>();
  readonly #cids = new Set<string>();
  readonly #keyed = new Set<string>();
  #clock = 0;
  #value: GohoValue | undefined;

  get size(): number {
    return this.#cids.size;
  }

  has(cid: string): boolean {
    return this.#cids.has(cid);
  }

  maxClock(): number {
    return this.#clock;
  }

  hasKeyedAppend(path: string, key: string): boolean {
    return this.#keyed.has(`${path}\n${key}`);
  }

  /** Adds a leaf (by the string of its CID); false when it was there already. */
  add(cid: string, leaf: Leaf): boolean {
    if (this.#cids.has(cid)) return false;
    this.#cids.add(cid);
    rememberLeafCid(leaf, cid);
    this.#clock = Math.max(this.#clock, leaf.clock);
    if (leaf.action === 'append' && leaf.key !== undefined)
      this.#keyed.add(`${leaf.path}\n${leaf.key}`);
    let state = this.#paths.get(leaf.path);
    if (!state) {
      state = { leaves: [], unsorted: false, value: undefined, stale: true };
      this.#paths.set(leaf.path, state);
    }
    const last = state.leaves[state.leaves.length - 1];
    if (last && compareLeaves(last, leaf) > 0) state.unsorted = true;
    state.leaves.push(leaf);
    state.stale = true;
    this.#value = undefined;
    return true;
  }

  /** Every leaf, in no particular order. */
  leaves(): Leaf[] {
    return [...this.#paths.values()].flatMap((p) => p.leaves);
  }

  /** The values appended at a path, ignoring its `set` leaves (see Goho.appended). */
  appended(path: string): unknown[] {
    const state = this.#paths.get(path);
    return state ? appended(this.#sorted(state)) : [];
  }

  value(): GohoValue {
    if (this.#value) return this.#value;
    const value = new Map<string, unknown>();
    for (const path of [...this.#paths.keys()].sort()) {
      const state = this.#paths.get(path) as PathState;
      this.#sorted(state);
      if (state.stale) {
        state.value = foldPath(state.leaves);
        state.stale = false;
      }
      value.set(path, state.value);
    }
    this.#value = value;
    return value;
  }

  #sorted(state: PathState): Leaf[] {
    if (state.unsorted) {
      state.leaves.sort(compareLeaves);
      state.unsorted = false;
    }
    return state.leaves;
  }
}
