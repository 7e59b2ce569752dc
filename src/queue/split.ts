import { CID } from 'multiformats/cid';
import { z } from 'zod';
import { BadInputError, parseWith } from '../errors/index.ts';
import { encodeTask, type Task, type TaskBlock } from './task.ts';

/** The most parts one split may have: each is a task the mesh tracks. */
export const MAX_SPLIT_PARTS = 100;

const cidString = z
  .string()
  .min(8)
  .max(200)
  .regex(/^[a-zA-Z0-9]+$/, 'a CID string');

export const splitPlanSchema = z.strictObject({
  type: z.literal('meshbot.split'),
  parent: cidString,
  /** How the parts' results become the parent's: the only kind so far joins transcripts. */
  join: z.literal('transcript'),
  parts: z
    .array(
      z.strictObject({
        input: cidString,
        params: z.record(z.string().min(1).max(128), z.string().max(4096)),
      }),
    )
    .min(2)
    .max(MAX_SPLIT_PARTS),
});

export type SplitPlan = z.infer<typeof splitPlanSchema>;

/** One part task: its CID (id), dag-json block and value. */
export type PartTask = TaskBlock;

export function parsePlan(value: unknown): SplitPlan {
  return parseWith(splitPlanSchema, value, 'split plan');
}

/** The part tasks of a plan, in order. The parent must be the plan's own. */
export function partTasks(parentId: string, parent: Task, plan: SplitPlan): PartTask[] {
  if (plan.parent !== parentId) throw new BadInputError('the split plan is for another task');
  if (parent.parent) throw new BadInputError('a part cannot be split again');
  return plan.parts.map((p) =>
    encodeTask({
      ...parent,
      input: CID.parse(p.input),
      params: { ...parent.params, ...p.params },
      parent: CID.parse(parentId),
    }),
  );
}
