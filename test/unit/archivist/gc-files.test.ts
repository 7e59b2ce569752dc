/**
 * The real store files a block by its multihash alone: a file whose bytes are those of an old
 * GOHO block is one file on disk with it. A file the node adds while a collection runs is a
 * block it names through the barrier, like any other: it stays.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dagJson from '@ipld/dag-json';
import { afterEach, describe, expect, it } from 'vitest';
import { GcBarrier } from '../../../src/archivist/barrier.ts';
import { collectGarbage } from '../../../src/archivist/gc.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { cidOf, DAG_JSON } from '../../../src/store/cid.ts';
import { createStore } from '../../../src/store/index.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('garbage collection and files added meanwhile', () => {
  it('keeps a file the node adds while it runs, even when an old GOHO block has its bytes', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-gc-files-'));
    const raw = createStore({ dir });
    await raw.start();
    cleanups.push(async () => {
      await raw.stop();
      await rm(dir, { recursive: true, force: true });
    });
    const barrier = new GcBarrier(raw);
    const node = barrier.guard(raw);
    // An old GOHO leaf nothing reaches any more.
    const bytes = dagJson.encode({ action: 'set', author: '@a:h', clock: 1, path: 'p', value: 1 });
    await node.putBlock(cidOf(DAG_JSON, bytes), bytes);

    const session = barrier.begin();
    let file: Awaited<ReturnType<typeof node.addBytes>> | undefined;
    try {
      await collectGarbage(
        session,
        async () => {
          // Once the heads are read, an engine's output (the same bytes) is added as a file.
          file = await node.addBytes(bytes);
          return [];
        },
        silentLogger,
      );
    } finally {
      session.end();
    }
    expect(file).toBeDefined();
    await expect(raw.cat(file as NonNullable<typeof file>, { offline: true })).resolves.toEqual(
      bytes,
    );
  });
});
