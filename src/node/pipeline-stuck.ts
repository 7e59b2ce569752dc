/**
 * Whether a running pipeline can still get anywhere. A stage's condition reads the pipeline's
 * outputs, which change only when one of its tasks finishes (and its output is read), and the
 * task's id, which never does; `hpcp()` also reads the room's Results GOHO, which any task
 * changes. So once every task the pipeline derived is final, every finished task's output was
 * read, and no stage still waiting reads another GOHO, a stage that did not fire now never
 * will: if the result stage is one of them, the `!run` would wait for good.
 */
import { FINAL, type TaskState } from '../coordinator/task-record.ts';
import { MeshError } from '../errors/index.ts';
import type { CheckedStage } from '../evaluator/pipeline.ts';

/** A pipeline none of whose waiting stages can fire any more: its result will never come. */
export class PipelineStuckError extends MeshError {
  constructor(waiting: readonly Pick<CheckedStage, 'stage' | 'when'>[]) {
    super('PIPELINE_STUCK', `no stage can fire any more: ${neverHeld(waiting)}`, {
      retryable: false,
    });
  }
}

/** Longest stretch of a condition quoted back into the room. */
const QUOTE_MAX = 80;

function neverHeld(waiting: readonly Pick<CheckedStage, 'stage' | 'when'>[]): string {
  const quote = (s: string) =>
    JSON.stringify(s.length > QUOTE_MAX ? `${s.slice(0, QUOTE_MAX)}…` : s);
  const each = waiting.map((s) => `"${s.stage}" (when ${quote(s.when)})`);
  if (each.length === 1) return `${each[0]} never held its condition`;
  return `${each.slice(0, -1).join(', ')} and ${each.at(-1)} never held their conditions`;
}

export interface PipelineProgress {
  stages: readonly CheckedStage[];
  /** The stage whose output answers the `!run`. */
  result: string;
  /** Stages fired so far (by anyone's evaluation on this node). */
  fired: ReadonlyMap<string, unknown>;
  /** Every task the pipeline derived (its record's `parts`, and those the book says are its). */
  parts: readonly string[];
  /** Those tasks by the path of their output. */
  paths: ReadonlyMap<string, string>;
  /** The outputs the evaluation just made read, by path. */
  read: ReadonlyMap<string, unknown>;
  /** A task's state in the book, undefined if it is not there. */
  state: (task: string) => TaskState | undefined;
}

/** The stages that will never fire, when the result stage is one of them; else undefined. */
export function stuckStages(p: PipelineProgress): CheckedStage[] | undefined {
  if (p.fired.has(p.result)) return undefined;
  if (!p.parts.every((id) => isFinal(p.state(id)))) return undefined;
  // An output not read yet (still being fetched, or its task finished during the evaluation)
  // may still make a stage fire: its arrival brings another evaluation.
  for (const [path, id] of p.paths)
    if (p.state(id) === 'done' && !p.read.has(path)) return undefined;
  const waiting = p.stages.filter((s) => !p.fired.has(s.stage));
  if (waiting.some((s) => s.whenCondition.helpersUsed.has('hpcp'))) return undefined;
  return waiting;
}

const isFinal = (s: TaskState | undefined) => s !== undefined && FINAL.has(s);
