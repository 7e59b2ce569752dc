/**
 * What a finished container run means: the runtime's own stops first (abort, wall, output),
 * then what the kernel did (OOM killer, RLIMIT_FSIZE, RLIMIT_CPU), then the exit code.
 */
import {
  EngineAbortedError,
  type EngineError,
  EngineFailedError,
  EngineMemoryError,
  EngineOutputError,
  EngineTimeoutError,
} from '../errors.ts';
import type { EngineLimits } from '../types.ts';

/** Why the runtime stopped a container itself. */
export type Stop = 'wall' | 'output' | 'disk' | 'abort';

/** SIGKILL (exit code 128 + 9). */
const EXIT_SIGKILL = 137;
/** SIGXCPU: RLIMIT_CPU ran out (exit code 128 + 24). */
const EXIT_SIGXCPU = 152;
/** SIGXFSZ: a file outgrew RLIMIT_FSIZE (exit code 128 + 25). */
const EXIT_SIGXFSZ = 153;

export interface Outcome {
  exit: number;
  oom: boolean;
  stopped: Stop | undefined;
  logs: string[];
  wallMs: number;
  /** What the output folder holds. */
  outBytes: number;
  stdoutOverflowed: boolean;
  /** Forks the pids limit refused, when the wall limit was reached. */
  forkRefusals: number | undefined;
  pidsLimit: number;
}

export function judge(name: string, limits: EngineLimits, o: Outcome): EngineError | undefined {
  const { logs } = o;
  if (o.stopped === 'abort') return new EngineAbortedError(name, undefined, { logs });
  if (o.stopped === 'wall') {
    const detail = o.forkRefusals
      ? `it hit its limit of ${o.pidsLimit} processes (${o.forkRefusals} forks refused)`
      : undefined;
    return new EngineTimeoutError(name, 'wall', limits.wallMs, { logs, detail });
  }
  // A write past RLIMIT_FSIZE fails (EFBIG) or kills the writer (SIGXFSZ): either way the
  // folder shows it.
  const tooBig = o.outBytes > limits.maxOutputBytes || o.exit === EXIT_SIGXFSZ;
  if (o.stopped === 'disk') {
    const why = "it took the node's free disk space (in files outside its output folder's count)";
    return new EngineOutputError(name, why, { logs });
  }
  if (o.stopped === 'output' || o.stdoutOverflowed || tooBig) {
    const why = `the output is larger than ${limits.maxOutputBytes} bytes`;
    return new EngineOutputError(name, why, { logs });
  }
  if (o.oom) return new EngineMemoryError(name, limits.memoryMb, { logs });
  // RLIMIT_CPU: SIGXCPU at the soft limit, SIGKILL at the hard one (a container's PID 1
  // ignores SIGXCPU). A SIGKILL that neither we nor the OOM killer sent, after at least the
  // CPU budget of wall time, is the kernel enforcing it.
  const cpuKilled = o.exit === EXIT_SIGKILL && o.wallMs >= limits.cpuMs;
  if (o.exit === EXIT_SIGXCPU || cpuKilled) {
    return new EngineTimeoutError(name, 'cpu', limits.cpuMs, { logs });
  }
  if (o.exit !== 0) {
    const last = logs.filter((l) => l.trim() && l !== '[log truncated]').at(-1);
    const how =
      o.exit > 128 ? `was killed by signal ${o.exit - 128}` : `exited with code ${o.exit}`;
    return new EngineFailedError(name, last ? `${how}: ${last}` : how, { logs });
  }
  return undefined;
}
