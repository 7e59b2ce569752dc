/**
 * One node per data dir: two would overwrite each other's books and heads. The node's claim
 * is `node.pid` (data-dir-lock.ts), which `meshbot gc` also reads.
 *
 * - The file takes its name whole: it is written under a name of this process's own and then
 *   linked to `node.pid`, which fails if that name exists. Of two nodes starting together one
 *   gets it, and nobody ever reads a file that is there but not written yet.
 * - A file left by a node that is gone is taken over by moving it aside (a rename: of two
 *   nodes taking over together, one moves it) and checking that what moved is the file judged
 *   gone; a file another node created meanwhile is put back.
 * - Whether its node is gone: the file names the node's pid namespace. In this one, the pid
 *   and its start time say it at once, however old the file (a paused node keeps the dir, a
 *   pid given to another process since does not), so a node restarted after a crash starts
 *   without a wait. From another
 *   one (containers sharing the data dir) only a refresh of the file can say it: a running
 *   node touches it every REFRESH_MS, and the claim watches for twice that.
 * - A node that finds its file taken after all logs it (`onLost`).
 */
import { link, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  alive,
  DataDirBusyError,
  file,
  INSTANCE,
  isMine,
  keepFresh,
  MINE,
  NAMESPACE,
  otherOf,
  REFRESH_MS,
  readSeen,
  type Seen,
  STALE_MS,
  startTimeOf,
} from './data-dir-lock.ts';

export interface NodeClaimOptions {
  refreshMs?: number;
  /** How long to watch the file of a node of another pid namespace for a refresh. Default
   * twice REFRESH_MS. */
  watchMs?: number;
  /** Called if another process takes the file while this node holds it. */
  onLost?: () => void;
}

/** The node's claim on its data dir: refused (DataDirBusyError) while another node runs there. */
export async function claimNode(
  dataDir: string,
  opts: NodeClaimOptions = {},
): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const path = file(dataDir, 'node');
  const mine = `${path}.${INSTANCE}`;
  await writeFile(mine, MINE);
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(mine, path);
        return keepFresh(path, opts.refreshMs, opts.onLost);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const held = await holding(path, opts.watchMs ?? 2 * REFRESH_MS);
      if (held.running) throw busy(dataDir, held.pid);
      await takeOver(path, held.seen);
    }
    throw busy(dataDir, undefined);
  } finally {
    await rm(mine, { force: true });
  }
}

function busy(dataDir: string, pid: number | undefined): DataDirBusyError {
  return new DataDirBusyError(
    `another node (pid ${pid ?? 'unknown'}) is running on ${dataDir}: two nodes on one data ` +
      "dir would overwrite each other's books and heads. Stop it first, or give this node a " +
      'data dir of its own (`dataDir` in its config)',
  );
}

/**
 * The node file at `path` as judged: whether its node runs, and the file as it was seen
 * (undefined: there was none).
 */
async function holding(
  path: string,
  watchMs: number,
): Promise<{ running: boolean; pid?: number; seen?: Seen }> {
  let seen = await readSeen(path);
  if (!seen) return { running: false };
  const fresh = (s: Seen) => Date.now() - s.touched < STALE_MS;
  // Not a pid file yet: a version that wrote it in two steps may be between them.
  if (!otherOf(seen) && !isMine(seen.text) && fresh(seen)) {
    await sleep(250);
    seen = await readSeen(path);
    if (!seen) return { running: false };
  }
  const other = otherOf(seen);
  if (!other) return { running: false, seen };
  if (NAMESPACE !== '' && other.namespace === NAMESPACE) {
    const running = other.pid !== process.pid && alive(other.pid);
    // A stale file counts when its pid is still the process that wrote it: a node paused
    // (Ctrl-Z, `docker pause`) past STALE_MS still holds the dir; a pid given to another
    // process since (a crash, a reboot) does not. Files of versions without the start time
    // are judged by their age alone.
    const same = other.started !== '' && other.started === startTimeOf(other.pid);
    if (!fresh(other) && !(running && same)) return { running: false, seen };
    return { running, pid: other.pid, seen };
  }
  if (!fresh(other)) return { running: false, seen };
  // Another pid namespace: a running holder touches its file every REFRESH_MS.
  const until = performance.now() + watchMs;
  while (performance.now() < until) {
    await sleep(Math.min(250, watchMs));
    const now = await stat(path).catch(() => undefined);
    if (!now) return { running: false };
    if (now.mtimeMs !== other.touched) return { running: true, pid: other.pid, seen };
  }
  return { running: false, pid: other.pid, seen };
}

/**
 * Moves the file judged gone (`seen`) out of the way; any other file found there instead (a
 * node that took over first) goes back. Exported for its test.
 */
export async function takeOver(path: string, seen: Seen | undefined): Promise<void> {
  const aside = `${path}.${INSTANCE}.old`;
  try {
    await rename(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    const now = await readSeen(aside);
    const same = seen !== undefined && now?.text === seen.text && now.touched === seen.touched;
    // Put back unless another file took the name meanwhile (its node then holds the dir).
    if (!same) await link(aside, path).catch(() => {});
  } finally {
    await rm(aside, { force: true });
  }
}
