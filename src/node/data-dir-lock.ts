import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MeshError, type MeshErrorOptions } from '../errors/index.ts';

/**
 * Who uses a node's data dir: the running node (`node.pid`) or an offline garbage collection
 * (`gc.pid`). An offline collection must not run beside the node: it decides from the heads
 * saved on disk, and the node writes new heads meanwhile. Each side writes its own file first
 * and then looks for the other's, so of two starting together at least one sees the other.
 * The node's file is only written, never waited on: a node restarted at once after a crash
 * finds its own stale file and carries on.
 */
export type DataDirUser = 'node' | 'gc';

/** Another process uses the data dir in a way this one cannot run beside. */
export class DataDirBusyError extends MeshError {
  constructor(message: string, opts: MeshErrorOptions = {}) {
    super('DATA_DIR_BUSY', message, { retryable: true, ...opts });
  }
}

const file = (dataDir: string, who: DataDirUser) => join(dataDir, `${who}.pid`);

/** The live process (not this one) named in a user's file, if any. */
export async function holder(dataDir: string, who: DataDirUser): Promise<number | undefined> {
  let pid: number;
  try {
    pid = Number.parseInt(await readFile(file(dataDir, who), 'utf8'), 10);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  // A file naming this process was left by an earlier one that had its pid (a container's).
  return Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)
    ? pid
    : undefined;
}

/** Writes this process's file; the returned function removes it (if it is still ours). */
export async function claim(dataDir: string, who: DataDirUser): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  const path = file(dataDir, who);
  await writeFile(path, `${process.pid}\n`);
  return async () => {
    const now = await readFile(path, 'utf8').catch(() => '');
    if (Number.parseInt(now, 10) === process.pid) await rm(path, { force: true });
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
