/**
 * The value of a room's Results GOHO, kept up to date incrementally: each update reads only the
 * leaves added since the last head it saw (`Goho.since`), never the whole set, so conditions
 * can be evaluated at every head change (conditions may read the GOHO by its origin). Stage
 * outputs sit under `pipelines/<root task>/`; the Evaluator reads its own pipeline's from the
 * results the book accepted instead (stage-output.ts), whatever leaves their paths hold.
 */
import type { CID } from 'multiformats/cid';
import { compareLeaves } from '../lattice/fold.ts';
import { type Leaf, leafSchema } from '../lattice/schema.ts';
import type { Goho } from '../lattice/types.ts';
import type { Store } from '../store/types.ts';

const PIPELINES_PREFIX = 'pipelines';

/** A stage output's path within its pipeline: the stage, and the element of a `map` stage. */
export function stageKey(stage: string, index?: number): string {
  return index === undefined ? stage : `${stage}/${index}`;
}

/** The path of a stage's output in the Results GOHO. */
export function stagePath(root: string, stage: string, index?: number): string {
  return `${PIPELINES_PREFIX}/${root}/${stageKey(stage, index)}`;
}

export class ResultsView {
  readonly #goho: Goho;
  readonly #store: Store;
  #head: CID;
  readonly #winners = new Map<string, Leaf>();
  readonly #values = new Map<string, unknown>();

  constructor(goho: Goho, store: Store) {
    this.#goho = goho;
    this.#store = store;
    this.#head = goho.origin();
  }

  /** The whole GOHO value (for `hpcp()`); do not change it. */
  get all(): ReadonlyMap<string, unknown> {
    return this.#values;
  }

  /** Reads the leaves added since the last update; returns whether any were. */
  async update(opts: { signal?: AbortSignal } = {}): Promise<boolean> {
    const head = this.#goho.head();
    const last = this.#head;
    if (head.equals(last)) return false;
    // The last head read may be an old version garbage collection deleted since (it keeps
    // current heads only): then every leaf is read again, which the fold takes as a no-op
    // for those it has. A head root still here comes with its whole trie (see gc.ts).
    const origin = this.#goho.origin();
    const gone = !origin.equals(last) && !(await this.#store.hasBlock(last));
    const delta = await this.#goho.since(gone ? origin : last, opts);
    for (const cid of delta.leaves) {
      const parsed = leafSchema.safeParse(await this.#store.getDag(cid, opts));
      if (parsed.success) this.#take(parsed.data);
    }
    this.#head = head;
    return delta.leaves.length > 0;
  }

  #take(leaf: Leaf): void {
    const known = this.#winners.get(leaf.path);
    if (known && compareLeaves(known, leaf) >= 0) return;
    this.#winners.set(leaf.path, leaf);
    this.#values.set(leaf.path, leaf.value);
  }
}
