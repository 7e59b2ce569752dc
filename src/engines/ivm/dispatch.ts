/**
 * Bot-process side of one task: sends it to the sandbox process and settles the caller's
 * promise from the answer, the child's death, the caller's abort or the kill timer. The
 * kill timer (the runtime's watchdog) is the guard of last resort: the child's own wall
 * timer should answer first.
 */

import { residentMb } from '../child/resident.ts';
import type { Watchdog } from '../child/watchdog.ts';
import {
  EngineAbortedError,
  EngineBadInputError,
  EngineCrashedError,
  type EngineError,
  EngineFailedError,
  EngineMemoryError,
  EngineOutputError,
  EngineTimeoutError,
} from '../errors.ts';
import type { EngineLimits, RunRequest, RunResult } from '../types.ts';
import type { SandboxChild } from './child.ts';
import { createLogSink } from './log-sink.ts';
import {
  type ChildMessage,
  OUT_OF_MEMORY_SIGNAL,
  V8_OUT_OF_MEMORY_LINE,
  type WireError,
} from './protocol.ts';

export interface Job {
  id: number;
  req: RunRequest;
  /** The request's params, as checked. */
  params: Record<string, string>;
  limits: EngineLimits;
  /** What an abort does while the job runs: set by `dispatch`, called by the runtime with the
   * runtime's reason (it stops), or none (the caller aborted). */
  onAbort?: (reason?: string) => void;
  resolve(result: RunResult): void;
  reject(err: EngineError): void;
}

export interface DispatchOptions {
  /** Time the child gets past `wallMs`, or after a cancel, before it is killed. */
  killGraceMs: number;
  /** Holds the kill timer of last resort (`wallMs` + `killGraceMs`). */
  watchdog: Watchdog;
  /** The sandbox process's own memory, MiB: on each watchdog tick, a child whose resident
   * memory is over the task's `memoryMb` plus this is killed and the task fails with
   * ENGINE_MEMORY. It catches what V8 does not count against an isolate's limit (resizable
   * and growable buffers, WebAssembly memories). */
  sandboxOwnMb: number;
}

/** Resolves once the child is free for the next task (answered or dead), never rejects. */
export function dispatch(child: SandboxChild, job: Job, opts: DispatchOptions): Promise<void> {
  const { killGraceMs, watchdog, sandboxOwnMb } = opts;
  const { req, limits, id } = job;
  const name = req.engine.manifest.name;
  const started = performance.now();
  let settled = false;
  let killedByGuard = false;
  const settle = (fn: () => void) => {
    if (settled) return;
    settled = true;
    fn();
  };

  // The task goes out first: the sandbox wakes up and runs it while this side gets ready for
  // the answer, which cannot come before this function returns.
  child.send({
    type: 'run',
    id,
    engine: name,
    cid: req.engine.cid,
    code: req.engine.code,
    inputKind: req.engine.manifest.input,
    input: req.input,
    params: job.params,
    limits,
  });
  return new Promise<void>((free) => {
    let cancelTimer: NodeJS.Timeout | undefined;
    let offExit = () => {};
    const kill = (err: EngineError) => {
      killedByGuard = true;
      settle(() => job.reject(err));
      child.kill();
    };
    const disarm = watchdog.arm(
      limits.wallMs + killGraceMs,
      () => kill(new EngineTimeoutError(name, 'wall', limits.wallMs)),
      () => {
        const mb = residentMb(child.pid);
        if (mb !== undefined && mb > limits.memoryMb + sandboxOwnMb) {
          const detail = `the sandbox process held ${Math.round(mb)} MiB`;
          kill(new EngineMemoryError(name, limits.memoryMb, { detail }));
        }
      },
    );

    const onAbort = (reason?: string) => {
      settle(() => job.reject(new EngineAbortedError(name, reason)));
      child.send({ type: 'cancel', id });
      // The child must confirm soon; one that cannot is replaced.
      cancelTimer = setTimeout(() => child.kill(), killGraceMs);
    };

    const finish = () => {
      disarm();
      clearTimeout(cancelTimer);
      job.onAbort = undefined;
      offExit();
      child.onMessage = undefined;
      child.onStderr = idle;
      free();
    };

    const idle = child.onStderr;
    child.onStderr = (line) => {
      if (line === V8_OUT_OF_MEMORY_LINE) kill(new EngineMemoryError(name, limits.memoryMb));
    };

    child.onMessage = (msg: ChildMessage) => {
      if (!('id' in msg) || msg.id !== id) return;
      if (msg.type === 'progress') {
        if (!settled) report(req, msg.fraction);
        return;
      }
      const wallMs = performance.now() - started;
      // The sandbox caps both; this side does too, in case what answers is not the sandbox's
      // own code any more.
      const logs = cappedLogs(msg.logs);
      if (msg.type === 'done') {
        const output = plainBytes(msg.output);
        const max = limits.maxOutputBytes;
        if (output.byteLength > max) {
          const reason = `output of ${output.byteLength} bytes is over the ${max}-byte limit`;
          settle(() => job.reject(new EngineOutputError(name, reason, { logs })));
        } else settle(() => job.resolve({ output, logs, cpuMs: msg.cpuMs, wallMs }));
      } else {
        settle(() => job.reject(toEngineError(name, msg.error, limits, logs)));
      }
      finish();
    };

    job.onAbort = onAbort;
    // Last, because it fires at once when the child is already dead.
    offExit = child.onExit((info) => {
      const how = info.signal ? `signal ${info.signal}` : `exit code ${info.code}`;
      const err =
        info.signal === OUT_OF_MEMORY_SIGNAL
          ? new EngineMemoryError(name, limits.memoryMb)
          : new EngineCrashedError(name, how);
      if (!killedByGuard) settle(() => job.reject(err));
      finish();
    });
  });
}

// The channel hands over a Buffer, maybe a slice of a larger one: callers get plain bytes
// that own their memory.
function plainBytes(bytes: Uint8Array): Uint8Array {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return whole ? new Uint8Array(bytes.buffer) : new Uint8Array(bytes);
}

function cappedLogs(lines: string[]): string[] {
  if (lines.length === 0) return lines; // most tasks log nothing
  const sink = createLogSink();
  for (const line of lines) if (!sink.add(line)) break;
  return sink.lines();
}

function report(req: RunRequest, fraction: number): void {
  try {
    req.onProgress?.(fraction);
  } catch {
    // A caller's progress handler must not break the run.
  }
}

export function toEngineError(
  name: string,
  err: WireError,
  limits: EngineLimits,
  logs: string[],
): EngineError {
  switch (err.code) {
    case 'ENGINE_TIMEOUT': {
      const limit = err.limit ?? 'cpu';
      // A CPU window that ran out on a busy machine: wall-type, measured against the CPU limit.
      if (limit === 'wall' && err.cpuUsedMs !== undefined) {
        return new EngineTimeoutError(name, 'wall', limits.cpuMs, {
          logs,
          cpuUsedMs: err.cpuUsedMs,
        });
      }
      return new EngineTimeoutError(name, limit, limit === 'cpu' ? limits.cpuMs : limits.wallMs, {
        logs,
      });
    }
    case 'ENGINE_MEMORY':
      return new EngineMemoryError(name, limits.memoryMb, { logs });
    case 'ENGINE_OUTPUT':
      return new EngineOutputError(name, err.message, { logs });
    case 'ENGINE_BAD_INPUT':
      return new EngineBadInputError(name, err.message, { logs });
    case 'ENGINE_ABORTED':
      return new EngineAbortedError(name, undefined, { logs });
    default:
      return new EngineFailedError(name, err.message, { logs });
  }
}
