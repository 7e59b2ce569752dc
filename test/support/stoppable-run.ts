/**
 * An engine run for the node's fake runtime that lasts until the test ends it, or until its
 * signal fires, as the isolated-vm and Docker runtimes stop (with EngineAbortedError). With
 * `ignoresAbort`, it finishes anyway: a result that comes after the run was told to stop.
 */
import { EngineAbortedError } from '../../src/engines/errors.ts';
import type { Runner } from '../../src/engines/runner.ts';
import type { EnginePackage, RunRequest, RunResult } from '../../src/engines/types.ts';

export interface StoppableRun {
  /** The runtime's `run`. */
  run(req: RunRequest): Promise<RunResult>;
  /** Resolves when the run has started. */
  started: Promise<void>;
  /** The signal the run was given. */
  signal(): AbortSignal | undefined;
  /** Ends the run with its input as its output. */
  finish(): void;
}

export function stoppableRun(opts: { ignoresAbort?: boolean } = {}): StoppableRun {
  let signal: AbortSignal | undefined;
  let finish = () => {};
  let running = () => {};
  const started = new Promise<void>((r) => (running = r));
  const run = (req: RunRequest) =>
    new Promise<RunResult>((resolve, reject) => {
      signal = req.signal;
      finish = () => resolve({ output: req.input, cpuMs: 1 } as RunResult);
      const stop = () => reject(new EngineAbortedError(req.engine.manifest.name));
      if (!opts.ignoresAbort) req.signal?.addEventListener('abort', stop, { once: true });
      running();
    });
  return { run, started, signal: () => signal, finish: () => finish() };
}

/** What `stoppableRuntime` installs in a fake node's context. */
interface HasRuntime {
  ctx: { runtime: Runner };
}

/**
 * Gives a fake node (test/support/fake-room.ts) a runtime whose every run is `run`: any
 * engine downloads, and nothing is offered to the mesh.
 */
export function stoppableRuntime(f: HasRuntime, run: StoppableRun): void {
  f.ctx.runtime = {
    offers: () => [],
    kinds: () => [],
    download: async (ref) => ({ manifest: { name: ref.name } }) as unknown as EnginePackage,
    run: run.run,
  } as Partial<Runner> as Runner;
}
