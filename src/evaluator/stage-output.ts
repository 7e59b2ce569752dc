/**
 * A pipeline task's output as its pipeline's conditions see it. The Evaluator works it out
 * from the result the book accepted (`readStageValue`); the worker also writes it into the
 * Results GOHO at its stage's path, besides its `results/<task>` leaf, for anyone who reads
 * the GOHO. The task that carries the pipeline writes the stage `start`.
 */
import { CID } from 'multiformats/cid';
import { isStorable } from '../lattice/index.ts';
import type { LeafInput } from '../lattice/types.ts';
import type { Task } from '../queue/task.ts';
import { TooLargeError } from '../store/errors.ts';
import type { Store } from '../store/types.ts';
import { START } from './pipeline.ts';
import { stagePath } from './results-view.ts';

/** A JSON value, as a leaf carries it. */
export type StageValue =
  | string
  | number
  | boolean
  | null
  | StageValue[]
  | { [key: string]: StageValue };

/** Outputs larger than this are referred to by CID instead of carried in the leaf. */
export const MAX_STAGE_VALUE_BYTES = 16 * 1024;

/**
 * The output as a condition sees it: JSON when it parses, else its text; its CID when it is
 * large, not UTF-8, or JSON a leaf cannot carry as it is (a map with the key "/", or maps and
 * lists nested deeper than the lattice's MAX_VALUE_DEPTH: the leaf, and with it the task's
 * `results/<task>` leaf, would be lost, and the pipeline would wait for it for good).
 */
export function stageValue(output: Uint8Array, result: string): StageValue {
  if (output.byteLength > MAX_STAGE_VALUE_BYTES) return { cid: result };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(output);
  } catch {
    return { cid: result };
  }
  let value: StageValue;
  try {
    value = JSON.parse(text) as StageValue;
  } catch {
    return text;
  }
  return isStorable(value) ? value : { cid: result };
}

/**
 * `stageValue` of the output whose CID is `result`, read from the store (which fetches what
 * this node lacks): only its first MAX_STAGE_VALUE_BYTES are ever read.
 */
export async function readStageValue(
  store: Pick<Store, 'cat'>,
  result: string,
  opts: { signal?: AbortSignal; offline?: boolean } = {},
): Promise<StageValue> {
  try {
    const output = await store.cat(CID.parse(result), { ...opts, maxBytes: MAX_STAGE_VALUE_BYTES });
    return stageValue(output, result);
  } catch (err) {
    if (err instanceof TooLargeError) return { cid: result };
    throw err;
  }
}

/** The stage leaf of a pipeline task (the root or a derived task); null for any other task. */
export function stageLeaf(
  task: Task,
  taskId: string,
  value: StageValue,
  author: string,
): LeafInput | null {
  if (task.pipeline) {
    return { path: stagePath(taskId, START), action: 'set', value, author };
  }
  if (!task.stage || !task.parent) return null;
  const path = stagePath(task.parent.toString(), task.stage.name, task.stage.index);
  return { path, action: 'set', value, author };
}
