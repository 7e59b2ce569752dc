/**
 * The isolated-vm engine runtime. Isolates live in a separate sandbox process (a V8 crash
 * must not take the bot down); tasks reach it one at a time through a FIFO queue. A child
 * that died or was killed is replaced on the next task.
 */
import { type Logger, silentLogger } from '../../log/logger.ts';
import { createAdmission } from '../admission.ts';
import { Watchdog } from '../child/watchdog.ts';
import { EngineAbortedError, EngineCrashedError } from '../errors.ts';
import { Lifecycle } from '../lifecycle.ts';
import type { EngineLimits, EngineRuntime, RunRequest, RunResult } from '../types.ts';
import { type SandboxChild, spawnSandbox } from './child.ts';
import { dispatch, type Job } from './dispatch.ts';
import { checkRequest, DEFAULT_MAX_LIMITS, effectiveLimits } from './limits.ts';
import { V8_OUT_OF_MEMORY_LINE } from './protocol.ts';

export interface IvmRuntimeOptions {
  logger?: Logger;
  /** The node's ceiling on each limit. Default `DEFAULT_MAX_LIMITS` (512 MiB, 60 s CPU, 120 s wall, 16 MiB out). */
  maxLimits?: Partial<EngineLimits>;
  /** Time the sandbox gets past `wallMs` (or after a cancel) before it is SIGKILLed (past
   * `wallMs`: up to a fifth of it later, see watchdog.ts). Default 1500 ms. */
  killGraceMs?: number;
  /** Engines accepted, by name or package CID. Default: every package handed to `run`. */
  allowlist?: string[];
  /** Warm realms (isolates) kept in the sandbox, one per engine. 0: a new one per task. Default 4. */
  isolateCacheSize?: number;
  /** How long a new sandbox process may take to report ready. Default 10000 ms. */
  startTimeoutMs?: number;
  /** The sandbox process's own memory (Node, isolated-vm, the warm realms), MiB: while a
   * task runs, the process may hold the task's `memoryMb` plus this. Default 512. */
  sandboxOwnMb?: number;
}

export interface IvmRuntime extends EngineRuntime {
  readonly kind: 'isolated-vm';
  /** The sandbox process, while one runs (for diagnostics and tests). */
  readonly sandboxPid: number | undefined;
}

/** The watchdog checks the running task's deadline this many times per grace time, so its
 * kill comes at most a fifth of the grace late. */
const GUARD_TICKS_PER_GRACE = 5;

/** Why the jobs of a runtime that stops end. */
const STOPPED = 'the runtime stopped';

export function createIvmRuntime(opts: IvmRuntimeOptions = {}): IvmRuntime {
  const logger = (opts.logger ?? silentLogger).child({ component: 'ivm-runtime' });
  const max: EngineLimits = { ...DEFAULT_MAX_LIMITS, ...opts.maxLimits };
  const grace = opts.killGraceMs ?? 1500;
  const sandboxOwnMb = opts.sandboxOwnMb ?? 512;
  const watchdog = new Watchdog(Math.max(1, Math.round(grace / GUARD_TICKS_PER_GRACE)));
  const dispatchOptions = { killGraceMs: grace, watchdog, sandboxOwnMb };
  const admit = createAdmission('isolated-vm', opts.allowlist);
  const lifecycle = new Lifecycle();
  const queue: Job[] = [];
  let stopper = new AbortController();
  let child: SandboxChild | undefined;
  let spawning: Promise<SandboxChild> | undefined;
  let nextId = 1;
  // Jobs answered, so that nothing settles a job twice (an abort and the answer can cross).
  const settled = new WeakSet<Job>();

  const ensureChild = async (): Promise<SandboxChild> => {
    if (child?.alive) return child;
    spawning ??= spawnSandbox({
      logger,
      cacheSize: opts.isolateCacheSize ?? 4,
      // Half of what the guard allows the sandbox on top of a task: what warm realms keep
      // (WebAssembly memories too, which V8 does not count) never eats into the next task's.
      warmMb: Math.floor(sandboxOwnMb / 2),
      startTimeoutMs: opts.startTimeoutMs ?? 10_000,
      signal: stopper.signal,
    }).finally(() => {
      spawning = undefined;
    });
    child = await spawning;
    // Between tasks (the realm checks after an answer), an isolate out of memory leaves the
    // process hanging in a synchronous call: it would never answer the next task.
    const spawned = child;
    spawned.onStderr = (line) => {
      if (line === V8_OUT_OF_MEMORY_LINE) spawned.kill();
    };
    logger.debug('sandbox process ready', { pid: child.pid });
    return child;
  };

  // The job taken out of the line: waiting for the sandbox, or running in it.
  let current: Job | undefined;

  // Starts the next job when none runs. Synchronous up to the send when the sandbox is up, so
  // that a task reaches it without a detour through the promise queue.
  const pump = (): void => {
    if (current) return;
    const job = queue.shift();
    if (!job) return;
    current = job;
    const running = child?.alive ? send(child, job) : startThenSend(job);
    void running.then(() => {
      current = undefined;
      pump();
    });
  };

  // Resolves once the sandbox is free for the next job; never rejects.
  const send = (sandbox: SandboxChild, job: Job): Promise<void> => {
    try {
      return dispatch(sandbox, job, dispatchOptions);
    } catch (err) {
      // The channel could not serialise the message (nothing known does that: checkRequest
      // lets through bytes and strings only): the job fails, and the line goes on.
      const detail = `the task could not be sent: ${(err as Error).message}`;
      job.reject(new EngineCrashedError(job.req.engine.manifest.name, detail, { cause: err }));
      return Promise.resolve();
    }
  };

  const startThenSend = async (job: Job): Promise<void> => {
    let sandbox: SandboxChild;
    try {
      sandbox = await ensureChild();
    } catch (err) {
      const detail = `no sandbox process: ${(err as Error).message}`;
      job.reject(new EngineCrashedError(job.req.engine.manifest.name, detail, { cause: err }));
      return;
    }
    // A job aborted while the sandbox was starting was rejected then: it is not sent.
    if (!settled.has(job)) await send(sandbox, job);
  };

  // A queued job leaves the line; a running one is cancelled in the sandbox; one waiting
  // for the sandbox to start just ends. `reason` is the runtime's (it stops); a caller's
  // abort gives none.
  const abort = (job: Job, reason?: string) => {
    if (job.onAbort) return job.onAbort(reason);
    const at = queue.indexOf(job);
    if (at >= 0) queue.splice(at, 1);
    else if (job !== current) return;
    job.reject(new EngineAbortedError(job.req.engine.manifest.name, reason));
  };

  return {
    kind: 'isolated-vm',
    get sandboxPid() {
      return child?.alive ? child.pid : undefined;
    },

    start() {
      return lifecycle.start(async () => {
        stopper = new AbortController();
        try {
          await ensureChild();
        } catch (err) {
          throw new EngineCrashedError('isolated-vm', (err as Error).message, { cause: err });
        }
      });
    },

    stop() {
      return lifecycle.stop(async () => {
        stopper.abort(STOPPED);
        watchdog.stop();
        for (const job of [...queue]) abort(job, STOPPED);
        if (current) abort(current, STOPPED);
        const last = child ?? (await spawning?.catch(() => undefined));
        child = undefined;
        await last?.close(grace);
      });
    },

    run(req: RunRequest): Promise<RunResult> {
      let name: string;
      try {
        name = admit(req.engine, lifecycle.started);
        const params = checkRequest(req);
        const limits = effectiveLimits(req, max);
        const signal = req.signal;
        if (signal?.aborted) throw new EngineAbortedError(name);
        return new Promise<RunResult>((resolve, reject) => {
          // The runtime's stop reaches every job through `stop`, without a listener per job.
          const onAbort = () => abort(job, undefined);
          const done = () => {
            settled.add(job);
            signal?.removeEventListener('abort', onAbort);
          };
          const job: Job = {
            id: nextId++,
            req,
            params,
            limits,
            resolve(result) {
              if (settled.has(job)) return;
              done();
              resolve(result);
            },
            reject(err) {
              if (settled.has(job)) return;
              done();
              reject(err);
            },
          };
          signal?.addEventListener('abort', onAbort, { once: true });
          queue.push(job);
          pump();
        });
      } catch (err) {
        return Promise.reject(err);
      }
    },
  };
}
