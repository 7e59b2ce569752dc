import { Checker } from './check.ts';
import { ConditionError, withSource } from './errors.ts';
import { evaluateNode } from './evaluate.ts';
import { STANDARD_HELPERS } from './helpers.ts';
import { computedPathReads, literalPaths } from './literal-paths.ts';
import { parse } from './parse.ts';
import type { CompileOptions, Condition, Node } from './types.ts';

const DEFAULT_MAX_LENGTH = 1000;
const DEFAULT_MAX_NODES = 200;

/**
 * Parses and checks a condition up front, so a bad one is refused when the task definition
 * arrives rather than each time a dataset changes. Throws ConditionError.
 */
export function compileCondition(source: string, opts: CompileOptions = {}): Condition {
  const ast = parse(source, opts.maxLength ?? DEFAULT_MAX_LENGTH);
  const checker = new Checker(
    new Set(opts.helpers ?? STANDARD_HELPERS),
    opts.maxNodes ?? DEFAULT_MAX_NODES,
  );
  let root: Node;
  try {
    root = checker.check(ast);
  } catch (err) {
    if (err instanceof ConditionError) throw withSource(err, source);
    // Only reachable when maxNodes was raised far enough for the tree's depth to matter.
    if (err instanceof RangeError) {
      throw new ConditionError('the condition is nested too deeply', { source, cause: err });
    }
    throw err;
  }
  const evaluate: Condition['evaluate'] = (scope, budget) =>
    evaluateNode(root, source, scope, budget?.maxSteps);
  return {
    source,
    helpersUsed: checker.helpersUsed,
    identifiers: checker.identifiers,
    paths: literalPaths(root),
    computedPathReads: computedPathReads(root),
    evaluate,
    holds: (scope, budget) => Boolean(evaluate(scope, budget)),
  };
}
