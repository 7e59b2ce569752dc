/**
 * The value of a room's Results GOHO, kept up to date incrementally: each update reads only the
 * leaves added since the last head it saw (`Goho.since`), never the whole set, so conditions
 * can be evaluated at every head change. Pipelines' stage outputs sit under
 * `pipelines/<root task>/`; `stageOutput` gives one of them as written by one worker for one
 * result, whichever leaf wins the path: a stage reads the output the book accepted, not
 * whatever reached the path (a second run of the task, or another node's leaf).
 */
import type { CID } from 'multiformats/cid';
import { compareLeaves } from '../lattice/fold.ts';
import { type Leaf, leafSchema } from '../lattice/schema.ts';
import type { Goho } from '../lattice/types.ts';
import type { Store } from '../store/types.ts';

export const PIPELINES_PREFIX = 'pipelines';

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
  /** Per pipeline root: its stage leaves, by `outputKey` (path with the prefix cut off,
   * author, result). */
  readonly #pipelines = new Map<string, Map<string, Leaf>>();

  constructor(goho: Goho, store: Store) {
    this.#goho = goho;
    this.#store = store;
    this.#head = goho.origin();
  }

  /** The whole GOHO value (for `hpcp()`); do not change it. */
  get all(): ReadonlyMap<string, unknown> {
    return this.#values;
  }

  /**
   * The output of a pipeline's task at `path` (`stageKey`): the value of the leaf that
   * `author` wrote for `result` (the leaf's key), if one is in; undefined otherwise. A leaf of
   * a version before keys were written (2026-12-06) counts as its author's, whatever run it
   * came from.
   */
  stageOutput(root: string, path: string, author: string, result: string): unknown {
    const leaves = this.#pipelines.get(root);
    const leaf =
      leaves?.get(outputKey(path, author, result)) ?? leaves?.get(outputKey(path, author));
    return leaf?.value;
  }

  /** Forgets a finished pipeline's outputs (the GOHO keeps them). */
  forget(root: string): void {
    this.#pipelines.delete(root);
  }

  /** Reads the leaves added since the last update; returns whether any were. */
  async update(opts: { signal?: AbortSignal } = {}): Promise<boolean> {
    const head = this.#goho.head();
    if (head.equals(this.#head)) return false;
    const delta = await this.#goho.since(this.#head, opts);
    for (const cid of delta.leaves) {
      const parsed = leafSchema.safeParse(await this.#store.getDag(cid, opts));
      if (parsed.success) this.#take(parsed.data);
    }
    this.#head = head;
    return delta.leaves.length > 0;
  }

  #take(leaf: Leaf): void {
    const known = this.#winners.get(leaf.path);
    if (!known || compareLeaves(known, leaf) < 0) {
      this.#winners.set(leaf.path, leaf);
      this.#values.set(leaf.path, leaf.value);
    }
    const [top, root, ...rest] = leaf.path.split('/');
    if (top !== PIPELINES_PREFIX || root === undefined || rest.length === 0) return;
    if (leaf.action !== 'set') return;
    let p = this.#pipelines.get(root);
    if (!p) {
      p = new Map();
      this.#pipelines.set(root, p);
    }
    const key = outputKey(rest.join('/'), leaf.author, leaf.key);
    const same = p.get(key);
    if (!same || compareLeaves(same, leaf) < 0) p.set(key, leaf);
  }
}

const outputKey = (path: string, author: string, result?: string) =>
  JSON.stringify([path, author, result ?? null]);
