/**
 * Sandbox-process side: what this process holds between tasks. The parent's memory guard
 * (dispatch.ts) judges a task by the whole process's resident memory, so memory that one
 * task left behind must be gone before the next task is sent. Two steps:
 *
 * - `trim` drops every warm realm once the process holds more than `warmBytes` (a realm's own
 *   check, realm-pool.ts `heavy`, sees its heap only: WebAssembly memories and what several
 *   realms keep together show here).
 * - `settle`, after a task that ran long enough to have touched much memory, trims and then
 *   waits until the memory is really given back before the task's answer goes out: isolated-vm
 *   disposes an isolate on its own threads, and a few hundred MiB take some tens of ms to
 *   leave, more on a busy host. An answer sent sooner let the parent send the next task,
 *   whose guard then counted them (a 32 MiB task failed with ENGINE_MEMORY, the process
 *   holding the 640 MiB of WebAssembly memory the task before had kept).
 */
import type { RealmPool } from './realm-pool.ts';

/**
 * A task that ran at least this long (ms) is settled before its answer. A shorter one cannot
 * have touched enough memory to matter: on the 2-vCPU test VM an engine fills fresh memory at
 * about 1.5 GB/s (640 MiB of WebAssembly memory in 400 to 480 ms), so 20 ms is some 30 MiB,
 * far under the `warmBytes` of slack the guard leaves over the warm budget. The short tasks,
 * the common case, pay nothing; their memory is trimmed after the answer.
 */
export const SETTLE_AFTER_MS = 20;
/** How often `settle` reads the resident memory while it waits, ms. */
const POLL_MS = 5;
/** `settle` gives up once the memory has not fallen for this long (ms): what is left is not
 * the disposed realms'. */
const STALL_MS = 200;
/** And in any case after this long (ms), or at the task's wall deadline, whichever is first:
 * the task's answer waits for it. Under the parent's default grace after a cancel (1.5 s),
 * so that a cancel that comes meanwhile is answered before the parent gives up on the sandbox. */
const SETTLE_MAX_MS = 1000;

const MiB = 1024 * 1024;

export interface MemoryKeeper {
  /** Drops every warm realm when the process holds more than its budget; true if it did. */
  trim(): boolean;
  /** Trims, and if that dropped realms, resolves once their memory has left the process (or
   * stopped leaving, or at `deadline`, a performance.now() time). Undefined when there was
   * nothing to wait for. */
  settle(deadline: number): Promise<void> | undefined;
}

export interface MemoryKeeperOptions {
  pool: RealmPool;
  /** What the process may hold between tasks, bytes. */
  warmBytes: number;
  /** The process's resident memory, bytes (a parameter for the tests). */
  rss?: () => number;
}

export function createMemoryKeeper(opts: MemoryKeeperOptions): MemoryKeeper {
  const { pool, warmBytes } = opts;
  const rss = opts.rss ?? (() => process.memoryUsage.rss());
  const trim = () => {
    if (rss() <= warmBytes) return false;
    pool.clear();
    return true;
  };
  return {
    trim,
    settle: (deadline) => (trim() ? released(rss, warmBytes, deadline) : undefined),
  };
}

/** Resolves once `rss()` is at most `target`, or has stalled for `STALL_MS`, or at the deadline. */
function released(rss: () => number, target: number, deadline: number): Promise<void> {
  const started = performance.now();
  const end = Math.min(deadline, started + SETTLE_MAX_MS);
  let lowest = rss();
  let fellAt = started;
  return new Promise((resolve) => {
    const poll = () => {
      const now = performance.now();
      const held = rss();
      // Counted as falling only by a whole MiB: the process's own churn is not a release.
      if (held < lowest - MiB) {
        lowest = held;
        fellAt = now;
      }
      if (held <= target || now - fellAt >= STALL_MS || now >= end) resolve();
      else setTimeout(poll, POLL_MS);
    };
    poll();
  });
}
