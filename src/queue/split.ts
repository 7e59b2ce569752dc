/**
 * A split: a task that cut its input into parts instead of finishing it (a long recording).
 * The worker stores one small plan block; every node expands it into the same part tasks —
 * the parent's fields, the part's input and parameters, and the parent's CID — so each part
 * has one CID wherever it is computed, and a parent run twice splits into the same parts.
 */
import * as dagJson from '@ipld/dag-json';
import { CID } from 'multiformats/cid';
import { z } from 'zod';
import { BadInputError } from '../errors/index.ts';
import { cidOf, DAG_JSON } from '../store/cid.ts';
import { parseTask, type Task } from './task.ts';

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
export interface PartTask {
  id: string;
  block: Uint8Array;
  task: Task;
}

export function parsePlan(value: unknown): SplitPlan {
  const parsed = splitPlanSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new BadInputError(`invalid split plan at ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}

/** The part tasks of a plan, in order. The parent must be the plan's own. */
export function partTasks(parentId: string, parent: Task, plan: SplitPlan): PartTask[] {
  if (plan.parent !== parentId) throw new BadInputError('the split plan is for another task');
  if (parent.parent) throw new BadInputError('a part cannot be split again');
  return plan.parts.map((p) => {
    const task = parseTask({
      ...parent,
      input: CID.parse(p.input),
      params: { ...parent.params, ...p.params },
      parent: CID.parse(parentId),
    });
    const block = dagJson.encode(task);
    return { id: cidOf(DAG_JSON, block).toString(), block, task };
  });
}
