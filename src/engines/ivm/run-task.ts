/**
 * Sandbox-process side: one task in its engine's warm realm (realm-pool.ts), its top level
 * and `main` in a new scope. Limits: the heap by the isolate's memoryLimit, CPU by the
 * `timeout` of the call into the isolate (V8 counts the microtasks a call runs), wall time
 * by a timer that disposes the isolate, which also ends a promise that never settles
 * (there are no timers or I/O inside, so nothing could settle it later). A realm that met
 * a limit is disposed, never reused.
 *
 * A short task in a warm realm runs from start to answer without a wait (see `QUICK_TASK_MAX_MS`):
 * `runTask` then answers synchronously, and the sandbox process sends the answer from the
 * handler of the message that brought the task. Anything else takes the asynchronous path.
 */
import { cpuTimeout } from './limits.ts';
import { createLogSink, type LogSink } from './log-sink.ts';
import type { ChildMessage, RunMessage, WireError } from './protocol.ts';
import { IDLE_SLOT, type RealmPool, type RealmSpec, type WarmRealm } from './realm-pool.ts';

export type Outcome = Extract<ChildMessage, { type: 'done' | 'failed' }>;
type Stop = 'wall' | 'cancel';

/** What `start` and `finish` in prelude.js return: the output (text and JSON as a string),
 * or what went wrong. */
type RunnerResult =
  | string
  | Uint8Array
  | { kind: 'too-large'; bytes: number }
  | { kind: 'bad-output' | 'error'; message: string };
type Started = RunnerResult | { kind: 'pending' };

export interface TaskHooks {
  progress(fraction: number): void;
  /** Called with the function that cancels the task, while it can be cancelled. */
  cancellable(cancel: (() => void) | undefined): void;
}

/**
 * A realm whose last task took at most this long (wall, ms) runs the next one with a
 * synchronous call into the isolate. It runs in this thread, where an asynchronous call
 * wakes one of isolated-vm's threads and then this one again: about 0.3 ms less per task.
 * Meanwhile this process reads no messages, so a cancel waits for the call to end (the
 * parent kills the process after its grace time), and the wall limit is the CPU limit.
 * Engines whose tasks run longer keep the asynchronous call, and with it a prompt cancel.
 */
const QUICK_TASK_MAX_MS = 100;

/** One task's state, from its message to its answer. */
interface Task {
  readonly msg: RunMessage;
  readonly hooks: TaskHooks;
  readonly pool: RealmPool;
  readonly logs: LogSink;
  /** When the wall limit runs out (performance.now()). */
  readonly deadline: number;
  warm?: WarmRealm;
  stopped?: Stop;
  wall?: NodeJS.Timeout;
  /** The isolate's CPU time when the engine was called, ns. */
  cpuStart: bigint;
  /** performance.now() when the engine was called. */
  calledAt: number;
}

/** A task's answer, and what is left to do once it is sent. */
export interface TaskEnd {
  readonly outcome: Outcome;
  /** Gives the realm back to the pool: after the answer, which need not wait for it. */
  cleanUp(): void;
}

/** The task's end: at once when nothing had to wait, else a promise of it. */
export function runTask(
  pool: RealmPool,
  msg: RunMessage,
  hooks: TaskHooks,
): TaskEnd | Promise<TaskEnd> {
  const task: Task = {
    msg,
    hooks,
    pool,
    logs: createLogSink(),
    deadline: performance.now() + msg.limits.wallMs,
    cpuStart: 0n,
    calledAt: 0,
  };
  const input = readInput(msg);
  if (input instanceof BadInput) {
    return end(task, fail(task, { code: 'ENGINE_BAD_INPUT', message: input.message }), false);
  }
  hooks.cancellable(() => stop(task, 'cancel'));
  const spec: RealmSpec = { cid: msg.cid, code: msg.code, memoryMb: msg.limits.memoryMb };
  const warm = pool.take(spec);
  if (!warm || !isQuick(warm)) return runAsync(task, warm, spec, input);
  task.warm = warm;
  let started: Started;
  try {
    started = callStart(task, input, true);
  } catch (err) {
    return end(task, fail(task, classify(err, task)), false);
  }
  if (isPending(started)) return awaitFinish(task);
  return conclude(task, started);
}

function isPending(started: Started): started is { kind: 'pending' } {
  return (
    typeof started === 'object' &&
    started !== null &&
    'kind' in started &&
    started.kind === 'pending'
  );
}

/** Input that is not what the engine's manifest says it reads. */
class BadInput {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

/**
 * JSON input nested deeper than this is refused: copying it into the isolate recurses once
 * per level, and near 6,000 levels (12 KB of brackets) runs out of stack before any engine
 * code runs, which would read as the engine's failure.
 */
const MAX_JSON_DEPTH = 1_000;

function readInput(msg: RunMessage): unknown {
  if (msg.inputKind !== 'json') return own(msg.input);
  const text = Buffer.from(msg.input).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return new BadInput(`input is not JSON: ${(err as Error).message}`);
  }
  if (nesting(text) > MAX_JSON_DEPTH) {
    return new BadInput(`input JSON is nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  return value;
}

/** How deep a valid JSON text nests its arrays and objects. */
function nesting(json: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // a backslash: the next character is escaped
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/**
 * The input bytes on a buffer of their own. The channel hands them over as a view into the
 * whole message it read (the code, the params, the limits...), and the isolate gets a copy of
 * a view's whole buffer: the engine would see all of it through `input.buffer`.
 */
function own(bytes: Uint8Array): Uint8Array {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return whole ? bytes : new Uint8Array(bytes);
}

function isQuick(warm: WarmRealm): boolean {
  return warm.lastTaskMs !== undefined && warm.lastTaskMs <= QUICK_TASK_MAX_MS;
}

/** A new realm, or a call into the isolate that waits: with the wall timer armed first. */
async function runAsync(
  task: Task,
  taken: WarmRealm | undefined,
  spec: RealmSpec,
  input: unknown,
): Promise<TaskEnd> {
  armWall(task);
  let started: Started;
  try {
    task.warm = taken ?? (await task.pool.create(spec));
    if (task.stopped) throw new Error('stopped before start');
    started = await callStart(task, input, false);
  } catch (err) {
    return end(task, fail(task, classify(err, task)), false);
  }
  if (isPending(started)) return awaitFinish(task);
  return conclude(task, started);
}

/** What `main`'s promise settles to, on what is left of the task's CPU budget. */
async function awaitFinish(task: Task): Promise<TaskEnd> {
  armWall(task);
  const warm = task.warm as WarmRealm;
  const cpuLeft = task.msg.limits.cpuMs - cpuMs(task);
  try {
    const result = (await warm.finish.apply(undefined, [], {
      timeout: Math.max(1, Math.ceil(cpuLeft)),
      result: { promise: true, copy: true },
    })) as RunnerResult;
    return conclude(task, result);
  } catch (err) {
    return end(task, fail(task, classify(err, task)), false);
  }
}

/** The engine's top level and `main`: a result, or `pending` when main returned a promise. */
function callStart(task: Task, input: unknown, sync: true): Started;
function callStart(task: Task, input: unknown, sync: false): Promise<Started>;
function callStart(task: Task, input: unknown, sync: boolean): Started | Promise<Started> {
  const warm = task.warm as WarmRealm;
  const { limits, params } = task.msg;
  warm.slot.log = task.logs.add;
  warm.slot.progress = task.hooks.progress;
  warm.lastTaskMs = undefined;
  task.cpuStart = warm.isolate.cpuTime;
  task.calledAt = performance.now();
  // Input and params are copied into the isolate as they go in.
  const args = [input, params, limits.maxOutputBytes];
  const options = {
    timeout: limits.cpuMs,
    arguments: { copy: true },
    result: { copy: true },
  } as const;
  return sync
    ? (warm.start.applySync(undefined, args, options) as unknown as Started)
    : (warm.start.apply(undefined, args, options) as Promise<Started>);
}

function cpuMs(task: Task): number {
  const warm = task.warm as WarmRealm;
  return Number(warm.isolate.cpuTime - task.cpuStart) / 1e6;
}

/** The wall timer, set before the first wait: a synchronous call cannot be interrupted by
 * it anyway (its CPU timeout is never longer). */
function armWall(task: Task): void {
  task.wall ??= setTimeout(
    () => stop(task, 'wall'),
    Math.max(0, task.deadline - performance.now()),
  );
}

function stop(task: Task, why: Stop): void {
  task.stopped ??= why;
  const warm = task.warm;
  if (warm && !warm.isolate.isDisposed) warm.isolate.dispose();
}

/** The task's last step, whichever way it went: its answer, then its realm back to the pool. */
function end(task: Task, outcome: Outcome, healthy: boolean): TaskEnd {
  clearTimeout(task.wall);
  task.hooks.cancellable(undefined);
  const cleanUp = () => {
    const warm = task.warm;
    if (!warm) return;
    warm.slot.log = IDLE_SLOT.log;
    warm.slot.progress = IDLE_SLOT.progress;
    task.pool.release(warm, healthy);
  };
  return { outcome, cleanUp };
}

function fail(task: Task, error: WireError): Outcome {
  return { type: 'failed', id: task.msg.id, error, logs: task.logs.lines() };
}

// Anything that escapes the runner is a termination by the host or a compile error: the
// runner catches whatever the engine throws.
function classify(err: unknown, task: Task): WireError {
  const { stopped, warm } = task;
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  if (stopped === 'wall') return { code: 'ENGINE_TIMEOUT', limit: 'wall', message };
  if (stopped === 'cancel') return { code: 'ENGINE_ABORTED', message };
  if (/memory limit/i.test(message) && (!warm || warm.isolate.isDisposed)) {
    return { code: 'ENGINE_MEMORY', message };
  }
  // isolated-vm's own words, whole: a compile error may quote the engine's text.
  if (err instanceof Error && err.message === 'Script execution timed out.') {
    return cpuTimeout(task.msg.limits.cpuMs, usedCpuMs(task), message);
  }
  return { code: 'ENGINE_FAILED', message: message.slice(0, 2000) };
}

/** The CPU the task's calls into the isolate used, ms; undefined once it is disposed. */
function usedCpuMs(task: Task): number | undefined {
  if (!task.warm || task.warm.isolate.isDisposed) return undefined;
  try {
    return cpuMs(task);
  } catch {
    return undefined; // Disposed meanwhile.
  }
}

/**
 * The task's end from what the runner returned. The engine may have tampered with the
 * builtins the runner uses (those harden.js leaves unfrozen), and so with what it returns:
 * anything but the shapes the runner makes is refused, and the realm is not reused.
 */
function conclude(task: Task, result: unknown): TaskEnd {
  if (!isRunnerResult(result)) return end(task, fail(task, NOT_AN_OUTPUT), false);
  try {
    return end(task, settle(task, result), true);
  } catch (err) {
    return end(task, fail(task, classify(err, task)), false);
  }
}

const NOT_AN_OUTPUT: WireError = {
  code: 'ENGINE_OUTPUT',
  message: 'output is not text, bytes or JSON',
};

function isRunnerResult(v: unknown): v is RunnerResult {
  if (typeof v === 'string' || v instanceof Uint8Array) return true;
  if (typeof v !== 'object' || v === null || !('kind' in v)) return false;
  const r = v as { kind: unknown; message?: unknown; bytes?: unknown };
  if (r.kind === 'error' || r.kind === 'bad-output') return typeof r.message === 'string';
  return r.kind === 'too-large' && typeof r.bytes === 'number';
}

/** The answer for what the runner returned; the realm ran its task through. */
function settle(task: Task, result: RunnerResult): Outcome {
  const { msg } = task;
  const warm = task.warm as WarmRealm;
  warm.lastTaskMs = performance.now() - task.calledAt;
  const cpu = cpuMs(task);
  const max = msg.limits.maxOutputBytes;
  const tooLarge = (n: number) =>
    fail(task, {
      code: 'ENGINE_OUTPUT',
      message: `output of ${n}+ bytes is over the ${max}-byte limit`,
    });
  if (typeof result === 'string' || result instanceof Uint8Array) {
    // A copy in any case: the bytes may sit on a SharedArrayBuffer, which IPC cannot carry.
    const output = typeof result === 'string' ? Buffer.from(result, 'utf8') : Buffer.from(result);
    if (output.byteLength > max) return tooLarge(output.byteLength);
    return { type: 'done', id: msg.id, output, logs: task.logs.lines(), cpuMs: cpu };
  }
  switch (result.kind) {
    case 'error': {
      const message = result.message.slice(0, 2000);
      // ArrayBuffers live outside the V8 heap: at the limit their allocation throws instead.
      const memory = message.startsWith('RangeError: Array buffer allocation failed');
      return fail(task, { code: memory ? 'ENGINE_MEMORY' : 'ENGINE_FAILED', message });
    }
    case 'bad-output':
      return fail(task, { code: 'ENGINE_OUTPUT', message: result.message.slice(0, 2000) });
    case 'too-large':
      return tooLarge(result.bytes);
  }
}
