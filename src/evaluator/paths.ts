import { ConditionError } from './errors.ts';

export const MAX_PATH_LENGTH = 512;

/** A GOHO path from a condition: a non-empty string of non-empty `/`-separated segments. */
export function checkPath(helper: string, path: unknown): string {
  if (typeof path !== 'string') {
    throw new ConditionError(`${helper}: the path must be a string, got ${typeof path}`);
  }
  if (path.length === 0) throw new ConditionError(`${helper}: the path is empty`);
  if (path.length > MAX_PATH_LENGTH) {
    throw new ConditionError(`${helper}: the path is longer than ${MAX_PATH_LENGTH} characters`);
  }
  if (path.split('/').includes('')) {
    throw new ConditionError(`${helper}: the path "${path}" has an empty segment`);
  }
  return path;
}

/**
 * The tree view of one GOHO value (a flat path -> value map). Built once, on first use, so
 * that conditions over maps of 10^4 paths do not rescan every key on each helper call.
 */
export class PathIndex {
  private children: Map<string, Set<string>> | undefined;
  private readonly sorted = new Map<string, readonly string[]>();

  readonly values: ReadonlyMap<string, unknown>;

  constructor(values: ReadonlyMap<string, unknown>) {
    this.values = values;
  }

  /** True when the path holds a value or has anything beneath it. */
  has(path: string): boolean {
    return this.values.has(path) || this.index().has(path);
  }

  /** Number of distinct direct children under `path/`. */
  childCount(path: string): number {
    return this.index().get(path)?.size ?? 0;
  }

  /** Sorted names of the direct children under `path/`; frozen and shared between calls. */
  childNames(path: string): readonly string[] {
    let names = this.sorted.get(path);
    if (names === undefined) {
      names = Object.freeze([...(this.index().get(path) ?? [])].sort());
      this.sorted.set(path, names);
    }
    return names;
  }

  private index(): Map<string, Set<string>> {
    if (this.children === undefined) {
      const children = new Map<string, Set<string>>();
      for (const key of this.values.keys()) {
        // `a/b/c` makes `b` a child of `a` and `c` a child of `a/b`.
        let slash = key.indexOf('/');
        while (slash !== -1) {
          const parent = key.slice(0, slash);
          const next = key.indexOf('/', slash + 1);
          const child = key.slice(slash + 1, next === -1 ? undefined : next);
          const set = children.get(parent);
          if (set === undefined) children.set(parent, new Set([child]));
          else set.add(child);
          slash = next;
        }
      }
      this.children = children;
    }
    return this.children;
  }
}
