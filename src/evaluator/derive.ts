/**
 * The tasks a stage of a pipeline enqueues when its condition holds: one for `enqueue`, one
 * per element for `map`. Everything in them comes from the root task and the stage's values,
 * so every node that evaluates the same condition derives the same task CIDs (invariant 1):
 * many nodes firing it enqueue nothing twice.
 */
import { CID } from 'multiformats/cid';
import { encodeTask, type Task, type TaskBlock } from '../queue/task.ts';
import type { Store } from '../store/types.ts';
import { ConditionError } from './errors.ts';
import type { CheckedStage } from './pipeline.ts';

export type DerivedTask = TaskBlock;

/** The largest element a stage may hand to a task, as JSON. */
const MAX_INPUT_BYTES = 1024 * 1024;

/** The elements a stage's input gives: its value, or each element of a `map` stage's list. */
export function stageElements(stage: CheckedStage, value: unknown, maxFanOut: number): unknown[] {
  if (stage.action === 'enqueue') return [value];
  if (!Array.isArray(value)) {
    throw new ConditionError(`stage "${stage.stage}" maps over a list, but its input is not one`);
  }
  if (value.length > maxFanOut) {
    throw new ConditionError(
      `stage "${stage.stage}" would enqueue ${value.length} tasks, above this mesh's limit of ${maxFanOut}`,
    );
  }
  return value;
}

export async function deriveTasks(
  store: Store,
  root: { id: string; task: Task },
  stage: CheckedStage,
  elements: readonly unknown[],
  opts: { signal?: AbortSignal } = {},
): Promise<DerivedTask[]> {
  const engineCid = root.task.pipeline?.engines?.[stage.engine];
  if (!engineCid) {
    throw new ConditionError(
      `stage "${stage.stage}": no engine "${stage.engine}" was fixed for it`,
    );
  }
  const out: DerivedTask[] = [];
  for (const [i, element] of elements.entries()) {
    const json = JSON.stringify(element);
    if (json === undefined) {
      throw new ConditionError(`stage "${stage.stage}": its input ${i} has no value`);
    }
    const bytes = new TextEncoder().encode(json);
    if (bytes.byteLength > MAX_INPUT_BYTES) {
      throw new ConditionError(`stage "${stage.stage}": its input ${i} is over 1 MiB`);
    }
    const { pipeline: _, stage: __, parent: ___, ...base } = root.task;
    out.push(
      encodeTask({
        ...base,
        engine: { name: stage.engine, cid: CID.parse(engineCid) },
        input: await store.addBytes(bytes, opts),
        params: stage.params ?? {},
        parent: CID.parse(root.id),
        stage: stage.action === 'map' ? { name: stage.stage, index: i } : { name: stage.stage },
      }),
    );
  }
  return out;
}
