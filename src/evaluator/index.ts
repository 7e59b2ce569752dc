export { compileCondition } from './compile.ts';
export { ConditionError, type ConditionErrorOptions } from './errors.ts';
export {
  type GohoHelpers,
  type GohoValues,
  gohoHelpers,
  STANDARD_HELPERS,
  type StandardHelper,
} from './helpers.ts';
export { MAX_PATH_LENGTH, PathIndex } from './paths.ts';
export type {
  CompileOptions,
  Condition,
  EvaluateBudget,
  Helper,
  Scope,
} from './types.ts';
export { MAX_STRING_LENGTH } from './values.ts';
