import { randomUUID } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
 * Two nodes must not share a data dir either: see node-claim.ts.
 */
export type DataDirUser = 'node' | 'gc';

/** How often a holder touches its file, ms. */
export const REFRESH_MS = 10_000;
/** A file untouched this long was left by a process that is gone (or not this kind), ms. */
export const STALE_MS = 60_000;

/** This process's mark in its files: another namespace may give the same pid to another process. */
export const INSTANCE = randomUUID();
/** This process's pid namespace, as /proc names it ('' where it cannot say). */
export const NAMESPACE = (() => {
  try {
    return readlinkSync('/proc/self/ns/pid');
  } catch {
    return '';
  }
})();

/**
 * When process `pid` started, in clock ticks since boot (/proc/<pid>/stat, field 22); '' where
 * /proc cannot say. A pid and its start time name one process: a pid alone may have been given
 * to another process since (after a crash, a reboot).
 */
export function startTimeOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (field 2, in parentheses, which may hold spaces).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? '';
  } catch {
    return '';
  }
}

/** Another process uses the data dir in a way this one cannot run beside. */
export class DataDirBusyError extends MeshError {
  constructor(message: string, opts: MeshErrorOptions = {}) {
    super('DATA_DIR_BUSY', message, { retryable: true, ...opts });
  }
}

export const file = (dataDir: string, who: DataDirUser) => join(dataDir, `${who}.pid`);

/** A file's text and when it was last touched (its mtime, ms). */
export interface Seen {
  text: string;
  touched: number;
}

/** A pid file as its holder wrote it. */
export interface PidFile extends Seen {
  pid: number;
  instance: string;
  /** Empty in files of versions that did not write it, and where /proc cannot say. */
  namespace: string;
  /** Its process's start time (startTimeOf); empty where it was not written. */
  started: string;
}

/** The file at `path`, or undefined when there is none. */
export async function readSeen(path: string): Promise<Seen | undefined> {
  try {
    const text = await readFile(path, 'utf8');
    return { text, touched: (await stat(path)).mtimeMs };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** The pid file of another process (not this one) in `seen`, if it names a valid pid. */
export function otherOf(seen: Seen): PidFile | undefined {
  const [first, instance = '', namespace = '', started = ''] = seen.text.split('\n');
  const pid = Number.parseInt(first ?? '', 10);
  if (instance === INSTANCE || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
  return { ...seen, pid, instance, namespace, started };
}

/** The file of another process (not this one), if there is one with a valid pid. */
export async function readOther(path: string): Promise<PidFile | undefined> {
  const seen = await readSeen(path);
  return seen && otherOf(seen);
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

/** What this process writes in its files. */
export const MINE = `${process.pid}\n${INSTANCE}\n${NAMESPACE}\n${startTimeOf(process.pid)}\n`;

/** Whether a file's text is this process's. */
export const isMine = (text: string) => text.split('\n')[1] === INSTANCE;

/**
 * Touches the file every `refreshMs`; the returned function stops that and removes the file
 * if it is still this process's. With `onLost`, the file is read first: one found missing is
 * written again (another node may have moved it aside for a moment, see node-claim.ts), and
 * `onLost` is called once if it is another process's (it took the data dir; refreshing stops).
 */
export function keepFresh(
  path: string,
  refreshMs = REFRESH_MS,
  onLost?: () => void,
): () => Promise<void> {
  const timer = setInterval(async () => {
    if (onLost) {
      const text = await readFile(path, 'utf8').catch(() => undefined);
      if (text === undefined) {
        await writeFile(path, MINE, { flag: 'wx' }).catch(() => {});
        return;
      }
      if (!isMine(text)) {
        clearInterval(timer);
        onLost();
        return;
      }
    }
    const now = new Date();
    utimes(path, now, now).catch(() => {});
  }, refreshMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    if (isMine(await readFile(path, 'utf8').catch(() => ''))) await rm(path, { force: true });
  };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
