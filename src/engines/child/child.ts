/**
 * Bot-process side of a sandbox process (the isolated-vm sandbox, the whisper worker): one
 * forked process, its validated IPC channel and its exit. The child runs code or decodes
 * input the bot does not trust, so every message from it is checked, and one that fails the
 * check gets the child killed.
 */
import { type ChildProcess, fork, type Serializable } from 'node:child_process';
import type { Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { z } from 'zod';
import { describeIssues } from '../../errors/zod.ts';
import type { Logger } from '../../log/logger.ts';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SandboxChild<In = unknown, Out extends { type: string } = { type: string }> {
  readonly pid: number | undefined;
  readonly alive: boolean;
  /** Receives this child's messages; the runtime gives it one task at a time. */
  onMessage: ((msg: Out) => void) | undefined;
  /** Sees each line the child writes to stderr (they are logged in any case). */
  onStderr: ((line: string) => void) | undefined;
  send(msg: In): void;
  /** Calls `fn` once when the process exits, at once if it already has; returns an unsubscribe. */
  onExit(fn: (info: ExitInfo) => void): () => void;
  /** SIGKILL: for a child that no longer answers. */
  kill(): void;
  /** Asks the child to exit, then SIGKILLs it after `graceMs`. */
  close(graceMs: number): Promise<void>;
}

/** A message from the child as its protocol allows it, or a line saying what is wrong. */
export type MessageCheck<Out> = (raw: unknown) => Out | string;

/** The check a zod schema makes. */
export function schemaCheck<Out>(schema: z.ZodType<Out>): MessageCheck<Out> {
  return (raw) => {
    const parsed = schema.safeParse(raw);
    return parsed.success ? parsed.data : describeIssues(parsed.error);
  };
}

export interface SpawnOptions<Out> {
  /** The script to fork (an absolute path). */
  script: string;
  /** Node flags for the child; nothing of the parent's is inherited (no inspector, no loaders). */
  execArgv: string[];
  /** The child's whole environment: the bot's tokens have no business there. */
  env: Record<string, string>;
  /** Checks every message from the child, `{ type: 'ready' }` among them: the message, or what is wrong with it. */
  parse: MessageCheck<Out>;
  logger: Logger;
  startTimeoutMs: number;
  signal?: AbortSignal;
}

/** Forks the child and resolves once it said `{ type: 'ready' }`. */
export function spawnChild<In, Out extends { type: string }>(
  opts: SpawnOptions<Out>,
): Promise<SandboxChild<In, Out>> {
  const proc = fork(opts.script, [], {
    execPath: process.execPath,
    execArgv: opts.execArgv,
    serialization: 'advanced',
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: opts.env,
  });
  const child = wrap<In, Out>(proc, opts.logger, opts.parse);
  return new Promise<SandboxChild<In, Out>>((resolve, reject) => {
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

function wrap<In, Out extends { type: string }>(
  proc: ChildProcess,
  logger: Logger,
  parse: MessageCheck<Out>,
): SandboxChild<In, Out> {
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
      if (stream === proc.stderr) child.onStderr?.(line);
    });
  }
  proc.on('error', (err) => log.warn('sandbox process error', { err }));
  proc.on('exit', (code, signal) => {
    exit = { code, signal };
    if (code !== 0) log.warn('sandbox process ended', { code, signal });
    for (const fn of exitListeners) fn(exit);
    exitListeners.clear();
  });

  const child: SandboxChild<In, Out> = {
    get pid() {
      return proc.pid;
    },
    get alive() {
      return exit === undefined && proc.exitCode === null && proc.signalCode === null;
    },
    onMessage: undefined,
    onStderr: undefined,
    send(msg) {
      if (!proc.connected) return;
      // No callback: a send that fails emits 'error' (logged above), and means the child is
      // dying; its exit event tells the task.
      proc.send(msg as Serializable);
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
    const msg = parse(raw);
    if (typeof msg === 'string') {
      // Only a bug or a sandbox escape produces these: trust nothing more from this child.
      log.error('invalid message from the sandbox; killing it', { issue: msg });
      child.kill();
      return;
    }
    child.onMessage?.(msg);
  });
  return child;
}
