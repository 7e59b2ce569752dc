export { Budget, type BudgetLimits, DEFAULT_BUDGET, MAX_BLOCK_BYTES } from './budget.ts';
export { BadBlockError } from './errors.ts';
export { compareLeaves, fold } from './fold.ts';
export { createGoho, openGoho } from './goho.ts';
export {
  isStorable,
  type Leaf,
  leafSchema,
  MAX_VALUE_DEPTH,
  maxLeafClock,
  type Root,
  rootSchema,
} from './schema.ts';
export type { Goho, GohoValue, HeadDelta, LeafInput, MergeOpts } from './types.ts';
