/**
 * The sandbox process: forked by the isolated-vm runtime, holds every isolate, so that a V8
 * crash or a runaway engine takes down this process and never the bot. It runs one task at
 * a time, in arrival order, and exits when the bot process goes away.
 */
import { type ChildMessage, OUT_OF_MEMORY_SIGNAL, type RunMessage } from './protocol.ts';
import { createRealmPool } from './realm-pool.ts';
import { runTask } from './run-task.ts';
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

/** The running task, and how to cancel it while it can be. */
let current: { id: number; cancel?: () => void } | undefined;
let queue: Promise<void> = Promise.resolve();

async function execute(msg: RunMessage): Promise<void> {
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
  try {
    const cancellable = (cancel: (() => void) | undefined) => {
      task.cancel = cancel;
    };
    send(await runTask(pool, msg, { progress, cancellable }));
  } finally {
    current = undefined;
  }
  // After the answer, not before it: whether the task left the realm as it found it.
  pool.tidy();
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
  queue = queue
    .then(() => execute(msg))
    .catch((err) => {
      // runTask reports engine failures itself; this is a bug here, but the parent still
      // deserves an answer rather than its kill timer.
      const message = `sandbox host error: ${String(err)}`.slice(0, 2000);
      send({ type: 'failed', id: msg.id, error: { code: 'ENGINE_FAILED', message }, logs: [] });
    });
});

process.on('disconnect', () => {
  pool.clear();
  process.exit(0);
});

send({ type: 'ready', pid: process.pid });
