/**
 * What a pipeline's task writes into the Results GOHO besides its `results/<task>` leaf: its
 * output, parsed, at its stage's path, so that the pipeline's conditions can read it. The
 * task that carries the pipeline writes the stage `start`.
 */
import { isStorable } from '../lattice/index.ts';
import type { LeafInput } from '../lattice/types.ts';
import type { Task } from '../queue/task.ts';
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
 * The stage leaf of a pipeline task (the root or a derived task); null for any other task. Its
 * key is the output's CID (`result`): with its author, it tells the output the book accepted
 * from another run of the same task, which writes the same path (results-view.ts).
 */
export function stageLeaf(
  task: Task,
  taskId: string,
  value: StageValue,
  author: string,
  result: string,
): LeafInput | null {
  if (task.pipeline) {
    return { path: stagePath(taskId, START), action: 'set', value, author, key: result };
  }
  if (!task.stage || !task.parent) return null;
  const path = stagePath(task.parent.toString(), task.stage.name, task.stage.index);
  return { path, action: 'set', value, author, key: result };
}
