/** Bot-process side: one sandbox process, its IPC channel and its exit. */
import { type ChildProcess, fork } from 'node:child_process';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../log/logger.ts';
import { type ChildMessage, childMessageSchema, type ParentMessage } from './protocol.ts';

const SCRIPT = fileURLToPath(new URL('./sandbox-process.ts', import.meta.url));

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SandboxChild {
  readonly pid: number | undefined;
  readonly alive: boolean;
  /** Receives this child's messages; the runtime gives it one task at a time. */
  onMessage: ((msg: ChildMessage) => void) | undefined;
  send(msg: ParentMessage): void;
  /** Calls `fn` once when the process exits, at once if it already has; returns an unsubscribe. */
  onExit(fn: (info: ExitInfo) => void): () => void;
  /** SIGKILL: for a child that no longer answers. */
  kill(): void;
  /** Asks the child to exit, then SIGKILLs it after `graceMs`. */
  close(graceMs: number): Promise<void>;
}

export interface SpawnOptions {
  logger: Logger;
  cacheSize: number;
  startTimeoutMs: number;
  signal?: AbortSignal;
}

export function spawnSandbox(opts: SpawnOptions): Promise<SandboxChild> {
  const proc = fork(SCRIPT, [], {
    execPath: process.execPath,
    // isolated-vm needs --no-node-snapshot on Node >= 20; nothing else is inherited (no
    // inspector, no loaders from a test runner).
    execArgv: ['--no-node-snapshot', '--disable-warning=ExperimentalWarning'],
    serialization: 'advanced',
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    // No inherited environment: the bot's tokens have no business in the sandbox process.
    env: { MESHBOT_IVM_CACHE: String(opts.cacheSize) },
  });
  const child = wrap(proc, opts.logger);
  return new Promise<SandboxChild>((resolve, reject) => {
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      done();
      child.kill();
      reject(new Error(`the sandbox process did not start: ${why}`));
    };
    const timer = setTimeout(
      () => fail(`no answer in ${opts.startTimeoutMs} ms`),
      opts.startTimeoutMs,
    );
    const onAbort = () => fail('aborted');
    const offExit = child.onExit((i) => fail(`exited (code ${i.code}, signal ${i.signal})`));
    const done = () => {
      settled = true;
      clearTimeout(timer);
      offExit();
      opts.signal?.removeEventListener('abort', onAbort);
      child.onMessage = undefined;
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    proc.once('error', (err) => fail(err.message));
    child.onMessage = (msg) => {
      if (msg.type !== 'ready') return;
      done();
      resolve(child);
    };
  });
}

function wrap(proc: ChildProcess, logger: Logger): SandboxChild {
  let exit: ExitInfo | undefined;
  const exitListeners = new Set<(info: ExitInfo) => void>();
  const log = logger.child({ sandboxPid: proc.pid });
  // Idle sandboxes must not keep the bot process alive; a running task's timer does.
  proc.unref();
  proc.channel?.unref();
  for (const [stream, level] of [
    [proc.stdout, 'debug'],
    [proc.stderr, 'warn'],
  ] as const) {
    if (!stream) continue;
    (stream as Socket).unref?.();
    createInterface({ input: stream }).on('line', (line) => {
      log[level]('sandbox output', { line: line.slice(0, 2000) });
    });
  }
  proc.on('error', (err) => log.warn('sandbox process error', { err }));
  proc.on('exit', (code, signal) => {
    exit = { code, signal };
    if (code !== 0) log.warn('sandbox process ended', { code, signal });
    for (const fn of exitListeners) fn(exit);
    exitListeners.clear();
  });

  const child: SandboxChild = {
    get pid() {
      return proc.pid;
    },
    get alive() {
      return exit === undefined && proc.exitCode === null && proc.signalCode === null;
    },
    onMessage: undefined,
    send(msg) {
      if (!proc.connected) return;
      // An error here means the child is dying; its exit event tells the task.
      proc.send(msg, (err) => {
        if (err) log.warn('could not send to the sandbox', { err });
      });
    },
    onExit(fn) {
      if (exit) {
        fn(exit);
        return () => {};
      }
      exitListeners.add(fn);
      return () => exitListeners.delete(fn);
    },
    kill() {
      if (child.alive) proc.kill('SIGKILL');
    },
    async close(graceMs) {
      if (!child.alive) return;
      const exited = new Promise<void>((resolve) => child.onExit(() => resolve()));
      if (proc.connected) proc.disconnect();
      else proc.kill('SIGTERM');
      const timer = setTimeout(() => child.kill(), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };

  proc.on('message', (raw) => {
    const parsed = childMessageSchema.safeParse(raw);
    if (!parsed.success) {
      // Only a bug or a sandbox escape produces these: trust nothing more from this child.
      log.error('invalid message from the sandbox; killing it', { issue: parsed.error.message });
      child.kill();
      return;
    }
    child.onMessage?.(parsed.data);
  });
  return child;
}
