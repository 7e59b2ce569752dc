/**
 * The whisper worker process, one at a time: runs go to it in order (whisper.cpp uses every
 * thread it is given, so two at once would only halve each). A worker that died or was
 * killed is replaced on the next run.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { schemaCheck, spawnChild } from '../engines/child/child.ts';
import type { Logger } from '../log/logger.ts';
import type { WorkerChild } from './dispatch.ts';
import { type ChildMessage, childMessageSchema, type ParentMessage } from './protocol.ts';

const SCRIPT = fileURLToPath(new URL('./worker-process.ts', import.meta.url));

export interface WorkerPool {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Runs `fn` with the worker once the runs before it are done. */
  run<T>(fn: (child: WorkerChild) => Promise<T>): Promise<T>;
}

export function createWorkerPool(opts: { log: Logger; startTimeoutMs: number }): WorkerPool {
  let child: WorkerChild | undefined;
  let spawning: Promise<WorkerChild> | undefined;
  let tail: Promise<unknown> = Promise.resolve();
  let stopper = new AbortController();

  const ensure = async (): Promise<WorkerChild> => {
    if (child?.alive) return child;
    spawning ??= spawnChild<ParentMessage, ChildMessage>({
      script: SCRIPT,
      execArgv: ['--disable-warning=ExperimentalWarning'],
      env: {},
      parse: schemaCheck(childMessageSchema),
      logger: opts.log,
      startTimeoutMs: opts.startTimeoutMs,
      signal: stopper.signal,
    }).finally(() => {
      spawning = undefined;
    });
    child = await spawning;
    return child;
  };

  return {
    async start() {
      stopper = new AbortController();
      await ensure();
    },
    async stop() {
      stopper.abort();
      await child?.close(1_500);
      child = undefined;
    },
    run(fn) {
      const next = tail.then(async () => fn(await ensure()));
      tail = next.catch(() => {});
      return next;
    },
  };
}

/** Why this node cannot run whisper.cpp, or null when smart-whisper's addon is built. */
export function bindingMissing(): string | null {
  let pkg: string;
  try {
    pkg = dirname(createRequire(import.meta.url).resolve('smart-whisper/package.json'));
  } catch {
    return 'the smart-whisper package is not installed';
  }
  // Looked for, never loaded here: native code runs in the worker process only.
  if (!existsSync(join(pkg, 'build', 'Release', 'smart-whisper.node'))) {
    return 'smart-whisper is not built on this node (run: npm rebuild smart-whisper)';
  }
  return null;
}
