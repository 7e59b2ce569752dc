import { z } from 'zod';

/** The Evaluator's limits (config key `evaluator`). */
export const evaluatorConfigSchema = z.strictObject({
  /** Most tasks one `map` stage may enqueue; a larger list fails the pipeline with the reason. */
  maxFanOut: z.number().int().min(1).max(100_000).default(1_000),
});

export type EvaluatorConfig = z.infer<typeof evaluatorConfigSchema>;
