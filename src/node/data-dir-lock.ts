import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MeshError, type MeshErrorOptions } from '../errors/index.ts';

/**
 * Who uses a node's data dir: the running node (`node.pid`) or an offline garbage collection
 * (`gc.pid`). An offline collection must not run beside the node: it decides from the heads
 * saved on disk, and the node writes new heads meanwhile. Each side writes its own file first
 * and then looks for the other's, so of two starting together at least one sees the other.
 * The node's file is only written, never waited on: a node restarted at once after a crash
 * finds its own stale file and carries on.
 *
 * A pid alone cannot say whether its process runs: the two may run in containers sharing the
 * data dir, each with its own pid namespace (where the other's pid names nothing, another
 * process, or this one: both may be pid 1). So its holder keeps its file fresh (its mtime,
 * every REFRESH_MS), and a file fresher than STALE_MS counts as held, whatever its pid.
 */
export type DataDirUser = 'node' | 'gc';

/** How often a holder touches its file, ms. */
export const REFRESH_MS = 10_000;
/** A file untouched this long was left by a process that is gone (or not this kind), ms. */
export const STALE_MS = 60_000;

/** This process's mark in its files: another namespace may give the same pid to another process. */
const INSTANCE = randomUUID();

/** Another process uses the data dir in a way this one cannot run beside. */
export class DataDirBusyError extends MeshError {
  constructor(message: string, opts: MeshErrorOptions = {}) {
    super('DATA_DIR_BUSY', message, { retryable: true, ...opts });
  }
}

const file = (dataDir: string, who: DataDirUser) => join(dataDir, `${who}.pid`);

/** The process (not this one) named in a user's file while it runs, if any. */
export async function holder(dataDir: string, who: DataDirUser): Promise<number | undefined> {
  let text: string;
  let touched: number;
  try {
    text = await readFile(file(dataDir, who), 'utf8');
    touched = (await stat(file(dataDir, who))).mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const [first, instance] = text.split('\n');
  const pid = Number.parseInt(first ?? '', 10);
  if (instance === INSTANCE || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
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
  await writeFile(path, `${process.pid}\n${INSTANCE}\n`);
  const timer = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => {});
  }, opts.refreshMs ?? REFRESH_MS);
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
