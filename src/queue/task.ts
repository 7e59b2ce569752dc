import * as dagJson from '@ipld/dag-json';
import type { CID } from 'multiformats/cid';
import { z } from 'zod';
import { parseWith } from '../errors/index.ts';
import { pipelineSchema } from '../evaluator/pipeline.ts';
import { asTaskId, type TaskId } from '../ids.ts';
import { cidSchema } from '../lattice/schema.ts';
import { cidOf, DAG_JSON } from '../store/cid.ts';
import type { Store } from '../store/types.ts';

const short = z.string().min(1).max(255);

/** A unit of work; its dag-json CID is its id (invariant 1). */
export const taskSchema = z.strictObject({
  type: z.literal('task'),
  engine: z.strictObject({ name: z.string().min(1).max(128), cid: cidSchema }),
  input: cidSchema,
  params: z.record(z.string().min(1).max(128), z.string().max(4096)),
  submitter: short,
  room: short,
  /** The Matrix event id of the `!run` that asked for it. */
  request: short,
  /** The thread the `!run` was posted in (its root event id): the replies go there too. */
  thread: short.optional(),
  /** Set on the parts of a split task (a long recording): the task they are part of. */
  parent: cidSchema.optional(),
  /** How many nodes must run it, this one included, and agree on its result (`replicas=k`). */
  replicas: z.number().int().min(1).max(20).optional(),
  /** A replica of another task: run again elsewhere so that results can be compared. */
  replica: z.strictObject({ of: cidSchema, n: z.number().int().min(1).max(20) }).optional(),
  /** The conditions this task carries: the tasks that follow from its output (see evaluator/). */
  pipeline: pipelineSchema.optional(),
  /** A task a pipeline's condition derived: its stage, and its element for a `map` stage. */
  stage: z
    .strictObject({
      name: z.string().min(1).max(32),
      index: z.number().int().min(0).max(1e6).optional(),
    })
    .optional(),
});
export type Task = z.infer<typeof taskSchema>;

/** Validates a task from anywhere (a command, a peer); throws BadInputError. */
export function parseTask(value: unknown): Task {
  return parseWith(taskSchema, value, 'task');
}

/** A task with its canonical dag-json block and the CID string of that block (its id). */
export interface TaskBlock {
  id: string;
  block: Uint8Array;
  task: Task;
}

/** Validates and encodes a task; the block is what assignments carry. */
export function encodeTask(value: unknown): TaskBlock {
  const task = parseTask(value);
  const block = dagJson.encode(task);
  return { id: cidOf(DAG_JSON, block).toString(), block, task };
}

/** The CID of the task's canonical dag-json block (dag-json sorts map keys), as a string. */
export function taskCid(task: Task): CID {
  return cidOf(DAG_JSON, dagJson.encode(parseTask(task)));
}

export const taskId = (task: Task): TaskId => asTaskId(taskCid(task).toString());

/** Stores the task block; returns its CID (whose string form is the task id). */
export async function putTask(
  store: Store,
  task: Task,
  opts: { signal?: AbortSignal } = {},
): Promise<CID> {
  return store.putDag(parseTask(task), opts);
}

/** Reads and validates a task block (a hostile block gives BadInputError, not a crash). */
export async function getTask(
  store: Store,
  cid: CID,
  opts: { signal?: AbortSignal } = {},
): Promise<Task> {
  return parseTask(await store.getDag(cid, opts));
}
