/**
 * The sandbox process: forked by the isolated-vm runtime, holds every isolate, so that a V8
 * crash or a runaway engine takes down this process and never the bot. It runs one task at
 * a time, in arrival order, and exits when the bot process goes away.
 */

import { createMemoryKeeper, SETTLE_AFTER_MS } from './memory-keeper.ts';
import { type ChildMessage, OUT_OF_MEMORY_SIGNAL, type RunMessage } from './protocol.ts';
import { createRealmPool } from './realm-pool.ts';
import { type Outcome, runTask, type TaskEnd } from './run-task.ts';
import { parseParentMessage } from './wire-check.ts';

/** How often progress reaches the parent at most, ms. */
const PROGRESS_EVERY_MS = 100;

if (!process.send) {
  process.stderr.write('sandbox-process must be started by the isolated-vm runtime (fork)\n');
  process.exit(2);
}

const send = (msg: ChildMessage) => {
  // A closed channel means the parent is gone; 'disconnect' ends this process.
  if (process.connected) process.send?.(msg);
};

const pool = createRealmPool({
  size: Number(process.env.MESHBOT_IVM_CACHE ?? 4),
  onCatastrophicError: (message) => {
    // isolated-vm: V8 lost control of an isolate; nothing in this process can be trusted.
    process.stderr.write(`isolated-vm catastrophic error: ${message}\n`);
    // Out of memory is the engine's doing (its task met its limit): the exit code says so.
    if (/out.of.memory/i.test(message)) process.kill(process.pid, OUT_OF_MEMORY_SIGNAL);
    process.abort();
  },
});

/**
 * What this process may hold between tasks (Node, isolated-vm, the warm realms): half of what
 * the parent's memory guard allows it on top of a task (memory-keeper.ts).
 */
const memory = createMemoryKeeper({
  pool,
  warmBytes: Number(process.env.MESHBOT_IVM_WARM_MB ?? 256) * 1024 * 1024,
});
/** A task ended since the last `tidy`: the memory left behind is unchecked. */
let dirty = false;
/** Whether `drain` is at work: a task runs, or an answer waits for its memory to settle. */
let draining = false;

/** The running task, and how to cancel it while it can be. */
let current: { id: number; cancel?: () => void } | undefined;
/** Tasks that came while one ran, in arrival order. */
const waiting: RunMessage[] = [];

// The realms given back are checked (realm-pool.ts `tidy`) once the answers are out, in the
// event loop's next turn rather than before the answer; a task that comes sooner has its realm
// checked as it is taken.
let tidying: NodeJS.Immediate | undefined;
const tidy = () => {
  tidying = undefined;
  // A task that started since checked its own realm; the rest wait for its answer.
  if (draining) return;
  pool.tidy();
  memory.trim();
  dirty = false;
};

/** Runs the waiting tasks one by one; a short task in a warm realm is answered before this returns. */
function drain(): void {
  draining = true;
  for (let msg = waiting.shift(); msg; msg = waiting.shift()) {
    const startedAt = performance.now();
    const ended = execute(msg);
    // The next task starts once this one is answered.
    if (ended instanceof Promise) {
      void ended
        .then(
          (e) => answer(e, msg, startedAt),
          (err) => send(hostError(msg, err)),
        )
        .finally(drain);
      return;
    }
    const answered = answer(ended, msg, startedAt);
    if (answered) {
      void answered.finally(drain);
      return;
    }
  }
  draining = false;
  tidying ??= setImmediate(tidy);
}

/**
 * Sends the task's answer, then gives its realm back; a task that ran long enough to have
 * left much memory gives its realm back first, and is answered once that memory is gone.
 */
function answer(ended: TaskEnd, msg: RunMessage, startedAt: number): Promise<void> | undefined {
  dirty = true;
  if (performance.now() - startedAt < SETTLE_AFTER_MS) {
    send(ended.outcome);
    cleanUp(ended);
    return undefined;
  }
  cleanUp(ended);
  const settling = memory.settle(startedAt + msg.limits.wallMs);
  if (!settling) {
    send(ended.outcome);
    return undefined;
  }
  return settling.then(() => send(ended.outcome));
}

function cleanUp(ended: TaskEnd): void {
  try {
    ended.cleanUp();
  } catch (err) {
    // A bug here; the realm is not reused.
    process.stderr.write(`sandbox: cleaning up after a task failed: ${String(err)}\n`);
  }
}

function execute(msg: RunMessage): TaskEnd | Promise<TaskEnd> {
  const task: { id: number; cancel?: () => void } = { id: msg.id };
  current = task;
  let lastProgress = 0;
  let done = false;
  const progress = (fraction: number) => {
    const now = performance.now();
    // 1 goes at once, but once: an engine may call progress(1) in a loop.
    if (fraction === 1 ? done : now - lastProgress < PROGRESS_EVERY_MS) return;
    done ||= fraction === 1;
    lastProgress = now;
    if (typeof fraction === 'number' && fraction >= 0 && fraction <= 1) {
      send({ type: 'progress', id: msg.id, fraction });
    }
  };
  const cancellable = (cancel: (() => void) | undefined) => {
    task.cancel = cancel;
  };
  const ended = () => {
    current = undefined;
  };
  let end: TaskEnd | Promise<TaskEnd>;
  try {
    // A task that follows another before `tidy` ran: what the last one left is checked now.
    if (dirty) memory.trim();
    end = runTask(pool, msg, { progress, cancellable });
  } catch (err) {
    end = { outcome: hostError(msg, err), cleanUp() {} };
  }
  if (end instanceof Promise) return end.finally(ended);
  ended();
  return end;
}

// runTask reports engine failures itself; this is a bug here, but the parent still deserves
// an answer rather than its kill timer.
function hostError(msg: RunMessage, err: unknown): Outcome {
  const message = `sandbox host error: ${String(err)}`.slice(0, 2000);
  return { type: 'failed', id: msg.id, error: { code: 'ENGINE_FAILED', message }, logs: [] };
}

process.on('message', (raw) => {
  const msg = parseParentMessage(raw);
  if (typeof msg === 'string') {
    process.stderr.write(`sandbox: dropped an invalid message: ${msg}\n`);
    return;
  }
  if (msg.type === 'cancel') {
    if (current?.id === msg.id) current.cancel?.();
    return;
  }
  waiting.push(msg);
  if (!draining) drain();
});

process.on('disconnect', () => {
  clearImmediate(tidying);
  pool.clear();
  process.exit(0);
});

send({ type: 'ready', pid: process.pid });
