import type { CID } from 'multiformats/cid';
import { EngineOutputError } from '../engines/errors.ts';
import type { RunRequest } from '../engines/types.ts';
import { NotFoundError } from '../errors/index.ts';
import { MAX_SPLIT_PARTS, type SplitPlan } from '../queue/split.ts';
import type { Task } from '../queue/task.ts';
import type { NodeContext } from './context.ts';
import { inputFromRequestFile } from './input-fallback.ts';

/** A run's outcome: its output's CID; for a split, the plan's, which names the parts. */
export interface TaskOutcome {
  result: CID;
  split: boolean;
  /** The output's bytes (absent for a split). */
  output?: Uint8Array;
  /** CPU time the run took, as its runtime measured it. */
  cpuMs: number;
}

/**
 * Fetches a task's engine and input, runs it in its sandbox, and stores the output — or, when
 * the engine split the input into parts, the split plan (`taskId`: the task being run).
 * `hooks.signal` stops the run (its task was withdrawn), as the node's own signal does.
 */
export async function runTask(
  ctx: NodeContext,
  task: Task,
  taskId: string,
  hooks: Pick<RunRequest, 'onProgress' | 'onStatus' | 'signal'> = {},
): Promise<TaskOutcome> {
  const signal = hooks.signal ? AbortSignal.any([ctx.signal, hooks.signal]) : ctx.signal;
  // Download: the engine from this node's folder, or from the mesh when its CID is allowed;
  // refused, with the reason, otherwise.
  const ref = { name: task.engine.name, cid: task.engine.cid.toString() };
  const engine = await ctx.runtime.download(ref, { signal });
  const input = await fetchInput(ctx, task, signal);
  const result = await ctx.runtime.run({
    engine,
    input,
    params: task.params,
    ...hooks,
    signal,
  });
  if (result.split && !task.parent) {
    // Every node refuses a plan outside these bounds (splitPlanSchema): stored, it would
    // fail later as a plan that "could not be read", with the engine's mistake unnamed.
    const n = result.split.parts.length;
    if (n < 2 || n > MAX_SPLIT_PARTS) {
      throw new EngineOutputError(
        task.engine.name,
        `it split the input into ${n} parts; a split has 2 to ${MAX_SPLIT_PARTS}`,
      );
    }
    const plan: SplitPlan = {
      type: 'meshbot.split',
      parent: taskId,
      join: result.split.join,
      parts: result.split.parts,
    };
    return { result: await ctx.store.putDag(plan), split: true, cpuMs: result.cpuMs };
  }
  const output = deliberatelyWrong(ctx, result.output);
  return { result: await ctx.store.addBytes(output), split: false, output, cpuMs: result.cpuMs };
}

/** `testing.wrongResultRate`: a node that lies, so that the Verifier can be seen catching it. */
function deliberatelyWrong(ctx: NodeContext, output: Uint8Array): Uint8Array {
  const rate = ctx.config.testing.wrongResultRate;
  if (rate <= 0 || Math.random() >= rate) return output;
  const wrong = new Uint8Array(output.byteLength + 1);
  wrong.set(output);
  wrong[output.byteLength] = 0x21; // '!': a result that differs from every honest one
  return wrong;
}

/**
 * `stop`: the run's own signal; only the fetch's timeout makes the input not found. An input
 * that was a file posted in the room is fetched from there then (input-fallback.ts).
 */
async function fetchInput(ctx: NodeContext, task: Task, stop: AbortSignal): Promise<Uint8Array> {
  const { fetchTimeoutMs, maxInputBytes } = ctx.config.limits;
  const cid = task.input;
  const signal = AbortSignal.any([stop, AbortSignal.timeout(fetchTimeoutMs)]);
  try {
    return await ctx.store.cat(cid, { signal, maxBytes: maxInputBytes });
  } catch (err) {
    // Not found: no node had it in time, or (no peers at all) the store says so at once.
    if (stop.aborted || !(signal.aborted || err instanceof NotFoundError)) throw err;
    const fromFile = await inputFromRequestFile(ctx, task, stop);
    if (fromFile) return fromFile;
    if (!signal.aborted) throw err;
    throw new NotFoundError(`input ${cid} not found within ${fetchTimeoutMs} ms`, {
      userMessage: `no node in the mesh has ${cid} (looked for ${Math.round(fetchTimeoutMs / 1000)} s)`,
      cause: err,
    });
  }
}
