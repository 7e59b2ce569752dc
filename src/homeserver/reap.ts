import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CHROOT_DATA_ROOT } from './chroot-synapse.ts';
import { readPidFile } from './pid-file.ts';
import { commandLine, isAlive, terminateGroup } from './process.ts';

/**
 * Removes chroot instances named `<prefix>*` whose owning process is gone (a test run killed
 * before its teardown): stops their Synapse and deletes their data. Returns the names removed.
 */
export async function reapOrphanedInstances(root: string, prefix: string): Promise<string[]> {
  const base = join(root, CHROOT_DATA_ROOT);
  const names = await readdir(base).catch(() => [] as string[]);
  const reaped: string[] = [];
  for (const name of names.filter((n) => n.startsWith(prefix))) {
    const dir = join(base, name);
    const record = await readPidFile(dir);
    if (record !== undefined && isAlive(record.ownerPid)) continue;
    if (record === undefined && !(await isIdle(dir))) continue;
    if (
      record !== undefined &&
      isAlive(record.pid) &&
      (await commandLine(record.pid))?.includes(record.config)
    ) {
      await terminateGroup(record.pid, 5_000);
    }
    await rm(dir, { recursive: true, force: true });
    reaped.push(name);
  }
  return reaped;
}

/** A dir without a pid file is either stopped or still being created: leave young ones alone. */
async function isIdle(dir: string): Promise<boolean> {
  const s = await stat(dir).catch(() => undefined);
  return s === undefined || Date.now() - s.mtimeMs > 10 * 60_000;
}
