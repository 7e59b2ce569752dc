/**
 * A task's context, made ready before the task: a new context (the bulk of a task's set-up
 * cost, about 0.6 ms), the prelude, the host API and the engine's top level. After a task
 * ends well, the sandbox prepares a spare one for the same engine while it waits, so the
 * next task only calls `main`. A spare is never used twice: each task still gets a fresh
 * global scope. Its top level's CPU time and logs are charged to the task that takes it.
 */
import ivm from 'isolated-vm';
import type { WarmIsolate } from './isolate-pool.ts';

/** Where the host API of a prepared context sends logs and progress: set per task. */
export interface HostSlot {
  log(line: string): boolean;
  progress(fraction: number): void;
}

export interface PreparedContext {
  context: ivm.Context;
  /** `run(input, params)` from prelude.js. */
  runner: ivm.Reference;
  refs: { release(): void }[];
  slot: HostSlot;
  /** What the top level logged while no task was there yet. */
  earlyLogs: string[];
  /** CPU time the top level used. */
  cpuMs: number;
  maxOutputBytes: number;
}

/** Lines kept from a spare's top level (the task's log sink caps the rest). */
const EARLY_LOG_LINES = 200;

export function cpuSince(isolate: ivm.Isolate, start: bigint): number {
  return isolate.isDisposed ? 0 : Number(isolate.cpuTime - start) / 1e6;
}

/** Prepares a context; releases what it made if the top level fails (the error is thrown). */
export async function prepareContext(
  warm: WarmIsolate,
  limits: { maxOutputBytes: number; cpuMs: number },
): Promise<PreparedContext> {
  const { isolate } = warm;
  const earlyLogs: string[] = [];
  const slot: HostSlot = {
    log: (line) => earlyLogs.push(String(line)) < EARLY_LOG_LINES,
    progress: () => {},
  };
  const cpuStart = isolate.cpuTime;
  const context = await isolate.createContext();
  const refs: { release(): void }[] = [];
  try {
    const install = await warm.prelude.run(context, { reference: true });
    refs.push(install);
    const hostApi = [
      new ivm.Callback((line: string) => slot.log(line)),
      new ivm.Callback((fraction: number) => slot.progress(fraction), { ignored: true }),
      limits.maxOutputBytes,
    ];
    const runner = await install.apply(undefined, hostApi, { result: { reference: true } });
    refs.push(runner);
    await warm.engine.run(context, { timeout: limits.cpuMs });
    const cpuMs = cpuSince(isolate, cpuStart);
    return { context, runner, refs, slot, earlyLogs, cpuMs, maxOutputBytes: limits.maxOutputBytes };
  } catch (err) {
    releaseContext({ context, refs }, isolate);
    throw err;
  }
}

export function releaseContext(
  prep: { context: ivm.Context; refs: { release(): void }[] },
  isolate: ivm.Isolate,
): void {
  if (isolate.isDisposed) return;
  for (const ref of prep.refs) ref.release();
  prep.context.release();
}

/** Starts preparing a spare for the engine's next task; a failure just means no spare. */
export function prepareSpare(
  warm: WarmIsolate,
  limits: { maxOutputBytes: number; cpuMs: number },
): void {
  if (warm.isolate.isDisposed || warm.spare) return;
  warm.spare = prepareContext(warm, limits).catch(() => undefined);
}

/** The spare, when there is one fit for these limits; a misfit is released. */
export async function takeSpare(
  warm: WarmIsolate,
  limits: { maxOutputBytes: number },
): Promise<PreparedContext | undefined> {
  const pending = warm.spare;
  warm.spare = undefined;
  const spare = await pending;
  if (!spare) return undefined;
  if (warm.isolate.isDisposed) return undefined;
  if (spare.maxOutputBytes !== limits.maxOutputBytes) {
    releaseContext(spare, warm.isolate);
    return undefined;
  }
  return spare;
}
