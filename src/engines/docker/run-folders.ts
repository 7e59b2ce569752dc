/**
 * The host folders of Docker runs: `<workDir>/<pid>-<runId>-<scope>`, each with the run's
 * `in` and `out`; the scope is the host name and the pid namespace (labels.ts's
 * processScope). A run removes its own when it ends; the deadline keeper removes those of a
 * bot that died mid-run, and a runtime that starts removes those of its own scope whose
 * process is gone, as it reaps their containers. The work folder may be shared by several
 * bots (the default is one per host, and containers with process numbers of their own may
 * share it: hence the scope), so a folder of a live process is never touched.
 */
import { execFile } from 'node:child_process';
import { readdir, rm } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../../log/logger.ts';
import { processAlive, processScope } from './labels.ts';

const runFile = promisify(execFile);

/** `<pid>-<runId>-<scope>`: the process that made the folder, the run's 12 hex digits, and
 * where that pid means that process. */
const RUN_FOLDER = /^([1-9][0-9]*)-[0-9a-f]{12}-(.+)$/;

/** Whether `dir` is an absolute path whose last part is a run folder's name. */
export function isRunFolder(dir: unknown): dir is string {
  return typeof dir === 'string' && isAbsolute(dir) && RUN_FOLDER.test(basename(dir));
}

/** The folder of run `runId` of this process. */
export function runFolder(workDir: string, runId: string): string {
  return join(workDir, `${process.pid}-${runId}-${processScope()}`);
}

/**
 * Removes the run folders in `workDir` whose process is gone. Returns how many. Never
 * throws: this is housekeeping.
 */
export async function reapRunFolders(workDir: string, logger: Logger): Promise<number> {
  let names: string[];
  try {
    names = await readdir(workDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      logger.warn('could not list the Docker work folder', { workDir, err });
    }
    return 0;
  }
  let removed = 0;
  const here = processScope();
  for (const name of names) {
    const match = RUN_FOLDER.exec(name);
    const pid = Number(match?.[1]);
    if (!pid || match?.[2] !== here || processAlive(pid)) continue;
    if (await removeRunFolder(join(workDir, name), logger)) removed++;
  }
  if (removed > 0) logger.info('removed run folders of a previous bot', { removed, workDir });
  return removed;
}

/**
 * Removes a run's folder, which the engine wrote. Node's rm fails on paths longer than the
 * host's longest path, which an engine can nest (with relative paths, inside): the system's
 * `rm -rf` walks the tree by file descriptors and gets through. What neither removes (a
 * folder the engine made private to its own user, the bot not being root) is logged.
 * Returns whether the folder is gone.
 */
export async function removeRunFolder(dir: string, logger: Logger): Promise<boolean> {
  try {
    await rm(dir, { recursive: true, force: true });
    return true;
  } catch {
    // Below.
  }
  try {
    await runFile('rm', ['-rf', '--one-file-system', '--', dir]);
    return true;
  } catch (err) {
    logger.warn('could not remove a run folder', { dir, err });
    return false;
  }
}
