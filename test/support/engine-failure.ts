/** For engine runtime tests: a run that must fail, its typed error and how long it took. */
import { expect } from 'vitest';
import { EngineError } from '../../src/engines/errors.ts';

export async function failure(req: Promise<unknown>): Promise<{ err: EngineError; ms: number }> {
  const started = performance.now();
  const err = await req.then(
    () => {
      throw new Error('expected the run to fail');
    },
    (e: unknown) => e,
  );
  expect(err, String(err)).toBeInstanceOf(EngineError);
  return { err: err as EngineError, ms: performance.now() - started };
}
