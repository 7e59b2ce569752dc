/** Schema failures as meshbot errors: one wording, naming the offending path. */
import type { z } from 'zod';
import { BadInputError } from './kinds.ts';

/** `engines.allow[2]`: a path as it would be written in the JSON's own language. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  }
  return out || '(root)';
}

/** `limits.memoryMb: Too small…; name: Invalid string…` — one line, every issue with its path. */
export function describeIssues(err: z.ZodError): string {
  return err.issues
    .map((i) => {
      const path = i.code === 'unrecognized_keys' ? [...i.path, i.keys.join(',')] : i.path;
      return `${formatPath(path)}: ${i.message}`;
    })
    .join('; ');
}

/**
 * Validates `value` against `schema`; a failure throws `invalid <what> at <path>: <message>`
 * for the first offending path, as a BadInputError unless `fail` makes another error.
 */
export function parseWith<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  fail: (message: string) => Error = (message) => new BadInputError(message),
): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw fail(`invalid ${what} at ${formatPath(issue?.path ?? [])}: ${issue?.message}`);
}
