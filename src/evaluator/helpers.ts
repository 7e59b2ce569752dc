import { ConditionError } from './errors.ts';
import { checkPath, PathIndex } from './paths.ts';
import type { Helper } from './types.ts';

export const STANDARD_HELPERS = ['exist', 'len', 'get', 'keys', 'hpcp'] as const;
export type StandardHelper = (typeof STANDARD_HELPERS)[number];

/** The GOHO values a condition can read. Each map must not change once handed over. */
export interface GohoValues {
  /** The value of the GOHO the condition belongs to. */
  local: ReadonlyMap<string, unknown>;
  /** Other GOHOs by origin CID string, for hpcp(); undefined when not known here. */
  byOrigin?: (origin: string) => ReadonlyMap<string, unknown> | undefined;
}

export type GohoHelpers = Readonly<Record<StandardHelper, Helper>>;

/**
 * The standard helpers over a GOHO value:
 * - `exist(path)`: the path holds a value or has something beneath it;
 * - `len(path)`: a list's or string's length, else the number of direct children;
 * - `get(path)`: the value at the path, undefined if absent;
 * - `keys(prefix)`: the sorted names of the direct children of prefix;
 * - `hpcp('<origin>/<path>')`: the value at path in the GOHO with that origin.
 */
export function gohoHelpers(values: GohoValues): GohoHelpers {
  const local = new PathIndex(values.local);
  return Object.freeze({
    exist: (path: unknown) => local.has(checkPath('exist', path)),
    len: (path: unknown) => {
      const p = checkPath('len', path);
      const v = local.values.get(p);
      if (Array.isArray(v) || typeof v === 'string') return v.length;
      return local.childCount(p);
    },
    get: (path: unknown) => local.values.get(checkPath('get', path)),
    keys: (prefix: unknown) => local.childNames(checkPath('keys', prefix)),
    hpcp: (ref: unknown) => readRemote(values.byOrigin, ref),
  });
}

function readRemote(byOrigin: GohoValues['byOrigin'], ref: unknown): unknown {
  if (typeof ref !== 'string') {
    throw new ConditionError(`hpcp: the reference must be a string "<origin>/<path>"`);
  }
  const slash = ref.indexOf('/');
  if (slash <= 0) {
    throw new ConditionError(`hpcp: "${ref.slice(0, 100)}" is not of the form "<origin>/<path>"`);
  }
  const origin = ref.slice(0, slash);
  const path = checkPath('hpcp', ref.slice(slash + 1));
  const remote = byOrigin?.(origin);
  if (remote === undefined) {
    throw new ConditionError(
      `hpcp: the GOHO with origin ${origin.slice(0, 100)} is not known here`,
    );
  }
  return remote.get(path);
}
