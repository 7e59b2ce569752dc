/**
 * The sandbox process: forked by the isolated-vm runtime, holds every isolate, so that a V8
 * crash or a runaway engine takes down this process and never the bot. It runs one task at
 * a time, in arrival order, and exits when the bot process goes away.
 */
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
 * What this process may hold between tasks (Node, isolated-vm, the warm realms). A realm's
 * own check (realm-pool.ts `heavy`) sees its heap only; WebAssembly memories and what several
 * realms keep together show here. Past it, every warm realm goes: the parent's memory guard
 * judges the next task by this process's whole resident memory.
 */
const WARM_BYTES = Number(process.env.MESHBOT_IVM_WARM_MB ?? 256) * 1024 * 1024;
const trim = () => {
  if (process.memoryUsage.rss() > WARM_BYTES) pool.clear();
};
/** A task ended since the last `tidy`: the memory left behind is unchecked. */
let dirty = false;

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
  if (current) return;
  pool.tidy();
  trim();
  dirty = false;
};

/** Runs the waiting tasks one by one; a short task in a warm realm is answered before this returns. */
function drain(): void {
  for (let msg = waiting.shift(); msg; msg = waiting.shift()) {
    const ended = execute(msg);
    if (ended instanceof Promise) {
      // The next task starts once this one is answered.
      void ended.then(answer, (err) => send(hostError(msg, err))).finally(drain);
      return;
    }
    answer(ended);
  }
  tidying ??= setImmediate(tidy);
}

/** Sends the task's answer first, then gives its realm back. */
function answer(ended: TaskEnd): void {
  send(ended.outcome);
  dirty = true;
  try {
    ended.cleanUp();
  } catch (err) {
    // A bug here; the answer is out, and the realm is not reused.
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
    if (dirty) trim();
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
  if (!current && waiting.length === 1) drain();
});

process.on('disconnect', () => {
  clearImmediate(tidying);
  pool.clear();
  process.exit(0);
});

send({ type: 'ready', pid: process.pid });
