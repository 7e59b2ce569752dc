import { randomUUID } from 'node:crypto';
import { readlinkSync } from 'node:fs';
import { mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MeshError, type MeshErrorOptions } from '../errors/index.ts';

/**
 * Who uses a node's data dir: the running node (`node.pid`) or an offline garbage collection
 * (`gc.pid`). An offline collection must not run beside the node: it decides from the heads
 * saved on disk, and the node writes new heads meanwhile. Each side writes its own file first
 * and then looks for the other's, so of two starting together at least one sees the other.
 *
 * A pid alone cannot say whether its process runs: the two may run in containers sharing the
 * data dir, each with its own pid namespace (where the other's pid names nothing, another
 * process, or this one: both may be pid 1). So its holder keeps its file fresh (its mtime,
 * every REFRESH_MS), and a file fresher than STALE_MS counts as held, whatever its pid.
 *
 * Two nodes must not share a data dir either (each would overwrite the other's books and
 * heads): `claimNode` creates the node's file only if none is there, and takes over one only
 * from a node that is gone. The file names its pid namespace: in the same one, the pid says
 * at once whether that node runs, so a node restarted after a crash starts without a wait;
 * from another one, only a refresh of the file can say it, and `claimNode` watches for one
 * (a node restarted in a new container within STALE_MS of a crash starts up to 12 s late).
 */
export type DataDirUser = 'node' | 'gc';

/** How often a holder touches its file, ms. */
export const REFRESH_MS = 10_000;
/** A file untouched this long was left by a process that is gone (or not this kind), ms. */
export const STALE_MS = 60_000;

/** This process's mark in its files: another namespace may give the same pid to another process. */
const INSTANCE = randomUUID();
/** This process's pid namespace, as /proc names it ('' where it cannot say). */
const NAMESPACE = (() => {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return '';
  }
})();

/** Another process uses the data dir in a way this one cannot run beside. */
export class DataDirBusyError extends MeshError {
  constructor(message: string, opts: MeshErrorOptions = {}) {
    super('DATA_DIR_BUSY', message, { retryable: true, ...opts });
  }
}

const file = (dataDir: string, who: DataDirUser) => join(dataDir, `${who}.pid`);

/** A pid file as its holder wrote it, and when it was last touched. */
interface PidFile {
  pid: number;
  instance: string;
  /** Empty in files of versions that did not write it, and where /proc cannot say. */
  namespace: string;
  touched: number;
}

/** The file of another process (not this one), if there is one with a valid pid. */
async function readOther(path: string): Promise<PidFile | undefined> {
  let text: string;
  let touched: number;
  try {
    text = await readFile(path, 'utf8');
    touched = (await stat(path)).mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const [first, instance = '', namespace = ''] = text.split('\n');
  const pid = Number.parseInt(first ?? '', 10);
  if (instance === INSTANCE || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return { pid, instance, namespace, touched };
}

/** The process (not this one) named in a user's file while it runs, if any. */
export async function holder(dataDir: string, who: DataDirUser): Promise<number | undefined> {
  const other = await readOther(file(dataDir, who));
  if (!other) return undefined;
  const { pid, touched } = other;
  // Kept fresh: its holder runs, maybe in another pid namespace.
  if (Date.now() - touched < STALE_MS) return pid;
  // A file naming this process was left by an earlier one that had its pid (a container's).
  return pid !== process.pid && alive(pid) ? pid : undefined;
}

/**
 * Writes this process's file and keeps it fresh; the returned function stops that and removes
 * the file (if it is still ours). `refreshMs`: default REFRESH_MS.
 */
export async function claim(
  dataDir: string,
  who: DataDirUser,
  opts: { refreshMs?: number } = {},
): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const path = file(dataDir, who);
  await writeFile(path, MINE);
  return keepFresh(path, opts.refreshMs);
}

/**
 * The node's claim on its data dir: refused (DataDirBusyError) while another node runs there.
 * `watchMs`: how long to watch the file of a node of another pid namespace for a refresh
 * (default REFRESH_MS and 2 s).
 */
export async function claimNode(
  dataDir: string,
  opts: { refreshMs?: number; watchMs?: number } = {},
): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const path = file(dataDir, 'node');
  // Created only where none is: of two nodes starting together, one gets EEXIST.
  for (let attempt = 1; ; attempt++) {
    try {
      await writeFile(path, MINE, { flag: 'wx' });
      return keepFresh(path, opts.refreshMs);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const other = await runningNode(path, opts.watchMs ?? REFRESH_MS + 2_000);
    if (other !== undefined || attempt === 3) {
      throw new DataDirBusyError(
        `another node (pid ${other ?? 'unknown'}) is running on ${dataDir}: two nodes on one ` +
          "data dir would overwrite each other's books and heads. Stop it first, or give " +
          'this node a data dir of its own (`dataDir` in its config)',
      );
    }
    // Left by a node that is gone (or by this process).
    await rm(path, { force: true });
  }
}

/** The pid of the node that holds the file at `path` and runs, if any. */
async function runningNode(path: string, watchMs: number): Promise<number | undefined> {
  const other = await readOther(path);
  if (!other || Date.now() - other.touched >= STALE_MS) return undefined;
  if (NAMESPACE !== '' && other.namespace === NAMESPACE) {
    return other.pid !== process.pid && alive(other.pid) ? other.pid : undefined;
  }
  // Another pid namespace: a running holder touches its file every REFRESH_MS.
  const until = performance.now() + watchMs;
  while (performance.now() < until) {
    await sleep(Math.min(250, watchMs));
    const now = await stat(path).catch(() => undefined);
    if (!now) return undefined;
    if (now.mtimeMs !== other.touched) return other.pid;
  }
  return undefined;
}

/** What this process writes in its files. */
const MINE = `${process.pid}\n${INSTANCE}\n${NAMESPACE}\n`;

/** Touches the file every `refreshMs`; the returned function stops that and removes the file
 * if it is still this process's. */
function keepFresh(path: string, refreshMs = REFRESH_MS): () => Promise<void> {
  const timer = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => {});
  }, refreshMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    const now = await readFile(path, 'utf8').catch(() => '');
    if (now.split('\n')[1] === INSTANCE) await rm(path, { force: true });
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
