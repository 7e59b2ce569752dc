/**
 * An engine run for the node's fake runtime that lasts until the test ends it, or until its
 * signal fires, as the isolated-vm and Docker runtimes stop (with EngineAbortedError). With
 * `ignoresAbort`, it finishes anyway: a result that comes after the run was told to stop.
 */
import { EngineAbortedError } from '../../src/engines/errors.ts';
import type { RunRequest, RunResult } from '../../src/engines/types.ts';

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
