/**
 * `meshbot engines pack`, as a person runs it: it adds engine packages to a node's store and
 * prints each name and CID; the same files give the same CIDs, the ones a node computes.
 */
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CID } from 'multiformats/cid';
import { describe, expect, inject, it } from 'vitest';
import { loadEngineFolder } from '../../src/engines/manifest.ts';
import { createStore } from '../../src/store/index.ts';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/meshbot.js', import.meta.url));
const ENGINES = fileURLToPath(new URL('../../engines', import.meta.url));
const docker = inject('docker');

async function pack(...args: string[]): Promise<Map<string, string>> {
  const env = { ...process.env, ...(docker ? { DOCKER_HOST: `unix://${docker.socketPath}` } : {}) };
  const { stdout } = await run(process.execPath, [BIN, 'engines', 'pack', ...args], { env });
  return new Map(
    stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t') as [string, string]),
  );
}

describe('meshbot engines pack', () => {
  it('prints each engine with its CID, the same every time, and stores the package', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'meshbot-pack-'));
    const first = await pack('sha256', 'fibsum-map', '--data-dir', dataDir);
    const again = await pack(
      'sha256',
      'fibsum-map',
      '--data-dir',
      await mkdtemp(join(tmpdir(), 'meshbot-pack-')),
    );
    expect(again).toEqual(first);
    const sha = await loadEngineFolder(join(ENGINES, 'sha256'));
    expect(first.get('sha256')).toBe(sha.cid);
    const store = createStore({ dir: join(dataDir, 'store') });
    await store.start();
    try {
      const value = await store.getDag<{ manifest: { name: string }; code: string }>(
        CID.parse(sha.cid),
        { offline: true },
      );
      expect(value.manifest.name).toBe('sha256');
      expect(value.code).toBe(sha.code);
    } finally {
      await store.stop();
    }
  });

  it.skipIf(!docker)('packs every engine, Docker ones pinned to their image digest', async () => {
    const all = await pack('--data-dir', await mkdtemp(join(tmpdir(), 'meshbot-pack-')));
    expect([...all.keys()]).toContain('fibsum-docker');
    expect([...all.keys()]).toContain('wordcount');
    const unpinned = await loadEngineFolder(join(ENGINES, 'fibsum-docker'));
    expect(all.get('fibsum-docker')).not.toBe(unpinned.cid);
  });

  it('says clearly when an engine does not exist', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'meshbot-pack-'));
    await expect(pack('nosuch', '--data-dir', dataDir)).rejects.toMatchObject({
      stderr: expect.stringContaining('no engine nosuch'),
    });
  });
});
