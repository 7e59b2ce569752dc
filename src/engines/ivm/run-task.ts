/**
 * Sandbox-process side: one task in its engine's warm realm (realm-pool.ts), its top level
 * and `main` in a new scope. Limits: the heap by the isolate's memoryLimit, CPU by the
 * `timeout` of the call into the isolate (V8 counts the microtasks a call runs), wall time
 * by a timer that disposes the isolate, which also ends a promise that never settles
 * (there are no timers or I/O inside, so nothing could settle it later). A realm that met
 * a limit is disposed, never reused.
 */
import { createLogSink } from './log-sink.ts';
import type { ChildMessage, RunMessage, WireError } from './protocol.ts';
import { IDLE_SLOT, type RealmPool, type WarmRealm } from './realm-pool.ts';

type Outcome = Extract<ChildMessage, { type: 'done' | 'failed' }>;
type Stop = 'wall' | 'cancel';

/** What `run` in prelude.js returns. */
type RunnerResult =
  | { kind: 'text' | 'json'; value: string }
  | { kind: 'bytes'; value: Uint8Array }
  | { kind: 'too-large'; bytes: number }
  | { kind: 'bad-output' | 'error'; message: string };

export interface TaskHooks {
  progress(fraction: number): void;
  /** Called with the function that cancels the task, while it can be cancelled. */
  cancellable(cancel: (() => void) | undefined): void;
}

export async function runTask(
  pool: RealmPool,
  msg: RunMessage,
  hooks: TaskHooks,
): Promise<Outcome> {
  const logs = createLogSink();
  const fail = (error: WireError): Outcome => ({
    type: 'failed',
    id: msg.id,
    error,
    logs: logs.lines(),
  });
  let input: unknown;
  try {
    input =
      msg.inputKind === 'json'
        ? JSON.parse(Buffer.from(msg.input).toString('utf8'))
        : own(msg.input);
  } catch (err) {
    return fail({
      code: 'ENGINE_BAD_INPUT',
      message: `input is not JSON: ${(err as Error).message}`,
    });
  }

  let stopped: Stop | undefined;
  let warm: WarmRealm | undefined;
  const stop = (why: Stop) => {
    stopped ??= why;
    if (warm && !warm.isolate.isDisposed) warm.isolate.dispose();
  };
  // The wall timer is set before the first wait; a synchronous run cannot be interrupted
  // by it anyway (its CPU timeout is never longer).
  const deadline = performance.now() + msg.limits.wallMs;
  let wall: NodeJS.Timeout | undefined;
  const beforeWaiting = () => {
    wall ??= setTimeout(() => stop('wall'), Math.max(0, deadline - performance.now()));
  };
  hooks.cancellable(() => stop('cancel'));

  let healthy = false;
  try {
    const spec = { cid: msg.cid, code: msg.code, memoryMb: msg.limits.memoryMb };
    warm = pool.take(spec);
    if (!warm) {
      beforeWaiting();
      warm = await pool.create(spec);
    }
    if (stopped) throw new Error('stopped before start');
    const run = { warm, msg, input, log: logs.add, progress: hooks.progress, beforeWaiting };
    const { result, cpuMs } = await callEngine(run);
    healthy = true;
    return settle(result, msg, cpuMs, logs.lines(), fail);
  } catch (err) {
    return fail(classify(err, stopped, warm));
  } finally {
    clearTimeout(wall);
    hooks.cancellable(undefined);
    if (warm) pool.release(warm, healthy);
  }
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

/**
 * A realm whose last task took at most this long (wall, ms) runs the next one with a
 * synchronous call into the isolate. It runs in this thread, where an asynchronous call
 * wakes one of isolated-vm's threads and then this one again: about 0.3 ms less per task.
 * Meanwhile this process reads no messages, so a cancel waits for the call to end (the
 * parent kills the process after its grace time), and the wall limit is the CPU limit.
 * Engines whose tasks run longer keep the asynchronous call, and with it a prompt cancel.
 */
const SYNC_TASK_MAX_MS = 100;

interface EngineCall {
  warm: WarmRealm;
  msg: RunMessage;
  input: unknown;
  log: (line: string) => boolean;
  progress: (fraction: number) => void;
  /** Arms the wall timer: called before any wait for the isolate. */
  beforeWaiting: () => void;
}

// The engine's top level and main(), then what main's promise settles to, on one CPU budget.
async function callEngine(call: EngineCall): Promise<{ result: RunnerResult; cpuMs: number }> {
  const { warm, msg } = call;
  const { isolate, slot } = warm;
  const { limits } = msg;
  const args = [call.input, msg.params, limits.maxOutputBytes];
  slot.log = call.log;
  slot.progress = call.progress;
  const cpuStart = isolate.cpuTime;
  const cpuMs = () => Number(isolate.cpuTime - cpuStart) / 1e6;
  const started = performance.now();
  const sync = warm.lastTaskMs !== undefined && warm.lastTaskMs <= SYNC_TASK_MAX_MS;
  warm.lastTaskMs = undefined;
  try {
    // Input and params are copied into the isolate as they go in.
    const options = {
      timeout: limits.cpuMs,
      arguments: { copy: true },
      result: { copy: true },
    } as const;
    type Started = RunnerResult | { kind: 'pending' };
    let result: Started;
    if (sync) {
      result = warm.start.applySync(undefined, args, options) as Started;
    } else {
      call.beforeWaiting();
      result = (await warm.start.apply(undefined, args, options)) as Started;
    }
    if (result.kind === 'pending') {
      call.beforeWaiting();
      result = (await warm.finish.apply(undefined, [], {
        timeout: Math.max(1, Math.ceil(limits.cpuMs - cpuMs())),
        result: { promise: true, copy: true },
      })) as RunnerResult;
    }
    warm.lastTaskMs = performance.now() - started;
    return { result, cpuMs: cpuMs() };
  } finally {
    slot.log = IDLE_SLOT.log;
    slot.progress = IDLE_SLOT.progress;
  }
}

// Anything that escapes the runner is a termination by the host or a compile error: the
// runner catches whatever the engine throws.
function classify(err: unknown, stopped: Stop | undefined, warm: WarmRealm | undefined): WireError {
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  if (stopped === 'wall') return { code: 'ENGINE_TIMEOUT', limit: 'wall', message };
  if (stopped === 'cancel') return { code: 'ENGINE_ABORTED', message };
  if (/memory limit/i.test(message) && (!warm || warm.isolate.isDisposed)) {
    return { code: 'ENGINE_MEMORY', message };
  }
  // isolated-vm's own words, whole: a compile error may quote the engine's text.
  if (err instanceof Error && err.message === 'Script execution timed out.') {
    return { code: 'ENGINE_TIMEOUT', limit: 'cpu', message };
  }
  return { code: 'ENGINE_FAILED', message: message.slice(0, 2000) };
}

function settle(
  result: RunnerResult,
  msg: RunMessage,
  cpuMs: number,
  logs: string[],
  fail: (e: WireError) => Outcome,
): Outcome {
  const max = msg.limits.maxOutputBytes;
  const tooLarge = (n: number) =>
    fail({ code: 'ENGINE_OUTPUT', message: `output of ${n}+ bytes is over the ${max}-byte limit` });
  switch (result?.kind) {
    case 'error': {
      const message = String(result.message).slice(0, 2000);
      // ArrayBuffers live outside the V8 heap: at the limit their allocation throws instead.
      const memory = message.startsWith('RangeError: Array buffer allocation failed');
      return fail({ code: memory ? 'ENGINE_MEMORY' : 'ENGINE_FAILED', message });
    }
    case 'bad-output':
      return fail({ code: 'ENGINE_OUTPUT', message: String(result.message).slice(0, 2000) });
    case 'too-large':
      return tooLarge(Number(result.bytes));
    case 'text':
    case 'json':
    case 'bytes': {
      // The engine may have tampered with the runner's builtins: check the type and size here.
      const value = result.value;
      if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
        return fail({ code: 'ENGINE_OUTPUT', message: 'output is not text, bytes or JSON' });
      }
      // A copy in any case: the bytes may sit on a SharedArrayBuffer, which IPC cannot carry.
      const output = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
      if (output.byteLength > max) return tooLarge(output.byteLength);
      return { type: 'done', id: msg.id, output, logs, cpuMs };
    }
    default:
      return fail({ code: 'ENGINE_OUTPUT', message: 'the sandbox returned no result' });
  }
}
