/**
 * What a pipeline's conditions see: the pipeline's own results as a GOHO value whose paths
 * are stage names (`start`, `fib/3`, `sum`), the standard helpers over it, and `values(path)`:
 * a map stage's outputs as one list, in element order.
 */
import { ConditionError } from './errors.ts';
import { type GohoValues, gohoHelpers, STANDARD_HELPERS } from './helpers.ts';
import { checkPath, PathIndex } from './paths.ts';
import type { Condition, Scope } from './types.ts';

export const PIPELINE_HELPERS = [...STANDARD_HELPERS, 'values'] as const;
/** The variables a pipeline's conditions read: `task`, the pipeline's own task id. */
export const PIPELINE_VARIABLES: readonly string[] = ['task'];

/** The stages a condition reads, from the paths written out in it. */
export function stagesRead(c: Condition): Set<string> {
  return new Set([...c.paths].map((p) => p.split('/')[0] as string));
}

/** Children in element order: numeric names by number, then the others by name. */
function ordered(names: readonly string[]): string[] {
  const num = (s: string) => (/^(0|[1-9][0-9]{0,8})$/.test(s) ? Number(s) : Number.NaN);
  return [...names].sort((a, b) => {
    const x = num(a);
    const y = num(b);
    if (!Number.isNaN(x) && !Number.isNaN(y)) return x - y;
    if (Number.isNaN(x) !== Number.isNaN(y)) return Number.isNaN(x) ? 1 : -1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

export function pipelineScope(
  values: GohoValues,
  vars: Readonly<Record<string, unknown>> = {},
): Scope {
  const index = new PathIndex(values.local);
  const standard = gohoHelpers(values);
  const listOf = (path: unknown) => {
    const p = checkPath('values', path);
    const v = index.values.get(p);
    if (Array.isArray(v)) return v;
    if (v !== undefined) throw new ConditionError(`values: "${p}" holds one value, not a list`);
    return ordered(index.childNames(p)).map((name) => index.values.get(`${p}/${name}`));
  };
  return { vars, helpers: { ...standard, values: listOf } };
}
