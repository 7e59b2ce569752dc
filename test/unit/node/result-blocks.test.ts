import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resultBlocks } from '../../../src/node/result-blocks.ts';
import { createStore, type LocalStore } from '../../../src/store/index.ts';

describe('resultBlocks', () => {
  let dir: string;
  let store: LocalStore;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshbot-result-blocks-'));
    store = createStore({ dir });
    await store.start();
  });
  afterAll(async () => {
    await store.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('carries a small result inline', async () => {
    const result = await store.addBytes(new TextEncoder().encode('{"words":3}'));
    expect(await resultBlocks(store, result)).toHaveLength(1);
  });

  it('carries none of a result of more than 64 blocks, and does not fail its task', async () => {
    // An engine may write up to 1 GiB (maxOutputBytes); 65 MiB is 66 blocks of UnixFS.
    const result = await store.addBytes(randomBytes(65 * 1024 * 1024 + 1));
    // Before, collect's TOO_LARGE came through: the run that succeeded was reported failed.
    expect(await resultBlocks(store, result)).toEqual([]);
  });
});
