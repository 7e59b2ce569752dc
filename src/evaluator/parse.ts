import jsep from 'jsep';
import { ConditionError } from './errors.ts';

// jsep 1.x ships `??`; older builds did not. Registered once, at module load, because
// jsep's operator table is process-wide.
if (!Object.hasOwn(jsep.binary_ops, '??')) jsep.addBinaryOp('??', 1);

export type JsepNode = jsep.Expression;

/** jsep's parse errors carry where they happened. */
interface JsepError extends Error {
  index: number;
  description: string;
}

const isJsepError = (err: unknown): err is JsepError =>
  err instanceof Error &&
  typeof (err as Partial<JsepError>).index === 'number' &&
  typeof (err as Partial<JsepError>).description === 'string';

/**
 * Parses with jsep, turning every failure into a ConditionError. jsep is a recursive
 * descent parser: deeply nested input overflows the stack, which must cost the author an
 * error message, not the bot its process.
 */
export function parse(source: string, maxLength: number): JsepNode {
  if (source.trim() === '') throw new ConditionError('the condition is empty', { source });
  if (source.length > maxLength) {
    throw new ConditionError(
      `the condition is too long (${source.length} characters; at most ${maxLength})`,
      { source },
    );
  }
  try {
    return jsep(source);
  } catch (err) {
    if (err instanceof RangeError) {
      throw new ConditionError('the condition is nested too deeply', { source, cause: err });
    }
    if (isJsepError(err)) {
      throw new ConditionError(describeSyntaxError(err.description), {
        source,
        position: err.index,
        hint: SYNTAX_HINTS.get(err.description),
        cause: err,
      });
    }
    throw new ConditionError('the condition cannot be parsed', { source, cause: err });
  }
}

/** jsep says `Expected )`; a chat user reads `expected ")"` better. */
function describeSyntaxError(description: string): string {
  const expected = /^Expected (\S)$/.exec(description);
  return expected ? `expected "${expected[1]}"` : lowerFirst(description);
}

/** What an author who hits these jsep errors most likely tried. */
const SYNTAX_HINTS: ReadonlyMap<string, string> = new Map([
  ['Unexpected "="', 'assignments and arrow functions are not allowed; use == to compare'],
]);

const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);
