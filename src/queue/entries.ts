import { z } from 'zod';
import { cidSchema } from '../lattice/schema.ts';

/** The three grow-only sets of the Queue GOHO, as paths. */
export const PATHS = {
  available: 'available',
  assigned: 'assigned',
  completed: 'completed',
} as const;

const worker = z.string().min(1).max(255);

export const assignmentSchema = z.strictObject({
  task: cidSchema,
  worker,
  /** The coordinator's lease term that made this assignment. */
  term: z.number().int().nonnegative(),
  attempt: z.number().int().nonnegative(),
});
export type Assignment = z.infer<typeof assignmentSchema>;

export const errorInfoSchema = z.strictObject({
  code: z.string().min(1).max(64),
  message: z.string().max(2000),
});

const okOutcome = z.strictObject({ worker, ok: z.literal(true), result: cidSchema });
const failedOutcome = z.strictObject({ worker, ok: z.literal(false), error: errorInfoSchema });

/** What a worker reports for a task: a result CID or a failure with its reason. */
export const outcomeSchema = z.discriminatedUnion('ok', [okOutcome, failedOutcome]);
export type Outcome = z.infer<typeof outcomeSchema>;

export const completionSchema = z.discriminatedUnion('ok', [
  okOutcome.extend({ task: cidSchema }),
  failedOutcome.extend({ task: cidSchema }),
]);
export type Completion = z.infer<typeof completionSchema>;
