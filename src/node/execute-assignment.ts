/**
 * One assignment's run on this node, from its task block to the report the worker sends:
 * the engine run with its progress notice, the output's blocks, and the Results GOHO entries
 * (queued on the worker's ledger line). A run stopped on purpose reports nothing.
 */
import { CID } from 'multiformats/cid';
import type { Settlement } from '../coordinator/task-record.ts';
import { describeForChat, type MeshError, toMeshError } from '../errors/index.ts';
import { stageLeaf, stageValue } from '../evaluator/stage-output.ts';
import type { RoomId } from '../ids.ts';
import type { Assignment, Completion, InlineBlock } from '../protocol/events.ts';
import type { Task } from '../queue/task.ts';
import { requestOf } from './answers.ts';
import type { NodeContext } from './context.ts';
import { ProgressNote } from './progress-note.ts';
import { resultBlocks } from './result-blocks.ts';
import { runTask, type TaskOutcome } from './run-task.ts';

export interface Report {
  completion: Completion;
  blocks: InlineBlock[];
  /** Whether the worker itself may answer the request (never for splits and their parts). */
  answerable: boolean;
}

export interface Execution {
  roomId: RoomId;
  assignment: Assignment;
  task: Task;
  /** Aborted when the task was withdrawn (reason `cancelled`) or settled elsewhere (`settled`),
   * or the node left the room. */
  stop: AbortSignal;
  /** Whether the node left the room (read once the run stopped). */
  left(): boolean;
  /** Queues the Results GOHO entries behind the node's earlier ones. */
  record(write: () => Promise<void>): void;
}

/** Errors worth another try on another node (the task itself may be fine). */
const RETRYABLE_CODES = new Set(['ENGINE_REFUSED', 'NOT_FOUND', 'TIMEOUT', 'ABORTED']);

/** Runs the task; null when its run was stopped (withdrawn, or the room left). */
export async function executeAssignment(ctx: NodeContext, x: Execution): Promise<Report | null> {
  const { assignment: a, task } = x;
  const started = Date.now();
  // Parts and pipelines are answered once as a whole, by the coordinator; so is a result
  // the Verifier may compare with other nodes' first.
  const answerable =
    task.parent === undefined &&
    task.pipeline === undefined &&
    task.replicas === undefined &&
    a.report !== true;
  // Progress of a request's own task, in its thread (parts and replicas have none).
  const note =
    task.parent === undefined
      ? new ProgressNote(ctx, x.roomId, requestOf(task), a.task)
      : undefined;
  const engine = task.engine.name;
  try {
    const outcome = await runTask(ctx, task, a.task, {
      onProgress: (f) => note?.update(`${engine}: ${Math.floor(f * 100)}%`),
      onStatus: (text) => note?.update(text),
      signal: x.stop,
    });
    note?.finish(`${engine}: done after ${Math.round((Date.now() - started) / 1000)} s`);
    const { result } = outcome;
    // A task that carries a pipeline is not finished by its own output: the pipeline is.
    const split = outcome.split || task.pipeline !== undefined;
    const blocks = await resultBlocks(ctx.store, result);
    x.record(() => recordOutcome(ctx, x.roomId, a.task, task, outcome));
    const completion: Completion = {
      task: a.task,
      attempt: a.attempt,
      ok: true,
      result: `${result}`,
      wallMs: Date.now() - started,
      cpuMs: Math.round(outcome.cpuMs),
    };
    if (split) completion.split = true;
    if (outcome.output) completion.bytes = outcome.output.byteLength;
    return { completion, blocks, answerable: answerable && !split };
  } catch (err) {
    if (x.stop.aborted) {
      // Stopped on purpose, not failed: a cancel has its own answer, a task settled elsewhere
      // is answered from that report, and a room left takes nothing. So it is not reported,
      // nor tried again elsewhere.
      const settled = x.stop.reason === ('settled' satisfies Settlement);
      if (x.left()) note?.drop();
      else if (settled) note?.finish(`${engine}: stopped, another node's report settled it`);
      else note?.finish(`${engine}: cancelled`);
      const why = x.left()
        ? 'this node left the room'
        : settled
          ? "another node's report settled its task"
          : 'its task was cancelled';
      ctx.log.info(`run stopped: ${why}`, { task: a.task });
      return null;
    }
    const e: MeshError = toMeshError(err);
    note?.finish(`${engine}: stopped (${e.code})`);
    ctx.log.warn('task failed', { task: a.task, code: e.code, errorId: e.id, err });
    const retryable = e.retryable || RETRYABLE_CODES.has(e.code);
    // An error that is not meshbot's own reads "internal error" alone: the id the log line
    // above carries goes with it, or nobody could find out what happened.
    const shown = e.code === 'INTERNAL' ? describeForChat(e) : e.userMessage;
    const error = { code: e.code, message: shown.slice(0, 2_000), retryable };
    return {
      completion: {
        task: a.task,
        attempt: a.attempt,
        ok: false,
        error,
        wallMs: Date.now() - started,
      },
      blocks: [],
      answerable,
    };
  }
}

/**
 * The Results GOHO entries of a run: `results/<task>` for a finished task (a split's parts
 * bring theirs later), and a pipeline task's output at its stage's path.
 */
async function recordOutcome(
  ctx: NodeContext,
  roomId: RoomId,
  id: string,
  task: Task,
  outcome: TaskOutcome,
): Promise<void> {
  const ledger = ctx.ledgers.get(roomId);
  const leaf = outcome.output
    ? stageLeaf(task, id, stageValue(outcome.output, outcome.result.toString()), ctx.self)
    : null;
  if (task.pipeline) {
    if (leaf) await ledger.append(ledger.resultsGoho, [leaf]);
    return;
  }
  if (outcome.split) return;
  // stageValue gives a value a leaf can carry: a failure here is not the output's.
  const c = { worker: ctx.self, ok: true as const, result: outcome.result };
  await ledger.complete(CID.parse(id), c, leaf ? [leaf] : []);
}
