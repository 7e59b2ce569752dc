/**
 * A node and `meshbot gc` may share a data dir from two containers (a volume mounted in both):
 * each process has its own pid namespace, so a pid read from the other's file names nothing
 * here, or some other process, or this very process (both are pid 1 in their containers).
 * The file its holder keeps fresh says it runs, whatever its pid.
 */
import { mkdir, mkdtemp, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { claim, holder } from '../../../src/node/data-dir-lock.ts';
import { collectDataDir } from '../../../src/node/offline-gc.ts';

const dataDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'meshbot-lock-'));
  await mkdir(join(dir, 'store'));
  return dir;
};

/** A process of another pid namespace wrote this file just now (and keeps it fresh). */
const otherNamespace = (dir: string, who: string, pid: number) =>
  writeFile(join(dir, `${who}.pid`), `${pid}\nan-instance-of-another-container\n`);

const age = async (dir: string, who: string, minutes: number) => {
  const then = new Date(Date.now() - minutes * 60_000);
  await utimes(join(dir, `${who}.pid`), then, then);
};

describe('the data dir pid files across pid namespaces', () => {
  it('meshbot gc refuses beside a node of another container that has its own pid', async () => {
    const dir = await dataDir();
    // Both are pid 1 in their containers: here, the node's pid is this process's.
    await otherNamespace(dir, 'node', process.pid);
    await expect(collectDataDir(dir)).rejects.toMatchObject({ code: 'DATA_DIR_BUSY' });
  });

  it('meshbot gc refuses beside a node of another container whose pid names nothing here', async () => {
    const dir = await dataDir();
    // A pid past any the kernel gives out in this namespace.
    await otherNamespace(dir, 'node', 4194399);
    await expect(collectDataDir(dir)).rejects.toMatchObject({ code: 'DATA_DIR_BUSY' });
  });

  it('the node sees a collection of another container', async () => {
    const dir = await dataDir();
    await otherNamespace(dir, 'gc', 4194399);
    expect(await holder(dir, 'gc')).toBe(4194399);
  });

  it('a file left by a process that died (no longer kept fresh) is stale', async () => {
    const dir = await dataDir();
    await otherNamespace(dir, 'node', 4194399);
    await age(dir, 'node', 10);
    expect(await holder(dir, 'node')).toBeUndefined();
    await otherNamespace(dir, 'node', process.pid);
    await age(dir, 'node', 10);
    expect(await holder(dir, 'node')).toBeUndefined();
  });

  it('is kept fresh by its holder, and is not a holder to itself', async () => {
    const dir = await dataDir();
    const release = await claim(dir, 'node', { refreshMs: 20 });
    expect(await holder(dir, 'node')).toBeUndefined();
    await age(dir, 'node', 10);
    await sleep(200);
    expect(Date.now() - (await stat(join(dir, 'node.pid'))).mtimeMs).toBeLessThan(10_000);
    await release();
  });
});
