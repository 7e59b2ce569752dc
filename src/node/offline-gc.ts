import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CID } from 'multiformats/cid';
import { plainSession } from '../archivist/barrier.ts';
import { collectGarbage, type GcResult } from '../archivist/gc.ts';
import { savedBooks } from '../coordinator/book-file.ts';
import { BadInputError } from '../errors/index.ts';
import { type Logger, silentLogger } from '../log/logger.ts';
import { cidFromString } from '../store/cid.ts';
import { createStore } from '../store/index.ts';
import { claim, DataDirBusyError, holder } from './data-dir-lock.ts';
import { HeadsFile } from './heads-file.ts';
import { taskBlocks } from './task-blocks.ts';

/**
 * Collects the garbage of a stopped node's data dir (`meshbot gc`), keeping what the running
 * node would, from what it saved: its pinned heads (`archive.json`), its heads (`heads.json`)
 * and the blocks named by the tasks of its saved books (`mesh/`). The heads peers announced
 * are not saved: blocks only they reach go, and come back from the peers if the node merges
 * those heads after its restart. Refuses (DataDirBusyError) while the node or another
 * collection runs there.
 */
export async function collectDataDir(
  dataDir: string,
  opts: { signal?: AbortSignal; log?: Logger } = {},
): Promise<GcResult> {
  const storeDir = join(dataDir, 'store');
  if (!(await stat(storeDir).catch(() => undefined))?.isDirectory()) {
    throw new BadInputError(`no block store in ${dataDir}: is it a node's data dir?`);
  }
  const other = await holder(dataDir, 'gc');
  if (other !== undefined) {
    throw new DataDirBusyError(`\`meshbot gc\` (pid ${other}) is already collecting in ${dataDir}`);
  }
  const release = await claim(dataDir, 'gc');
  try {
    const node = await holder(dataDir, 'node');
    if (node !== undefined) {
      throw new DataDirBusyError(
        `the node (pid ${node}) is running on ${dataDir}: it collects garbage itself every ` +
          '`archive.gcIntervalMinutes`; stop it first to collect now (a node that died ' +
          'without stopping counts as running for a minute)',
      );
    }
    // Read before the store opens: a file that cannot be read stops the collection.
    const heads = [
      ...(await savedHeads(join(dataDir, 'archive.json'))),
      ...(await savedHeads(join(dataDir, 'heads.json'))),
    ];
    const tasks = (await savedBooks(join(dataDir, 'mesh'))).flatMap((b) => b.tasks);
    const store = createStore({ dir: storeDir, logger: silentLogger });
    await store.start();
    try {
      const keep = async () => [...heads, ...(await taskBlocks(tasks, store, opts))];
      return await collectGarbage(plainSession(store), keep, opts.log ?? silentLogger, opts);
    } finally {
      await store.stop();
    }
  } finally {
    await release();
  }
}

async function savedHeads(file: string): Promise<CID[]> {
  const heads = new HeadsFile(file);
  await heads.load();
  return heads.entries().map(([, head]) => cidFromString(head));
}
