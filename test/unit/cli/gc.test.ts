/**
 * `meshbot gc` works on a stopped node's data dir only: the node says it runs there with its
 * pid file, and the command refuses while that process lives. (The collection itself, on a
 * real store, is in test/integration/archivist/gc.test.ts.)
 */
import { mkdir, mkdtemp, readFile, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeGc } from '../../../src/cli/gc.ts';
import { claim, holder } from '../../../src/node/data-dir-lock.ts';
import { collectDataDir } from '../../../src/node/offline-gc.ts';

const dataDir = () => mkdtemp(join(tmpdir(), 'meshbot-gc-cli-'));

describe('meshbot gc', () => {
  it('says what it freed and what it kept', () => {
    expect(describeGc({ deleted: 12, bytes: 5_120, marked: 340, inUse: 0 })).toBe(
      'freed 12 blocks of old GOHO versions (5.0 KiB); kept 340 blocks that heads, pins and tasks reach',
    );
    expect(describeGc({ deleted: 1, bytes: 90, marked: 1, inUse: 0 })).toBe(
      'freed 1 block of old GOHO versions (90 bytes); kept 1 block that heads, pins and tasks reach',
    );
  });

  it('refuses while the node runs on the data dir, and leaves no claim of its own behind', async () => {
    const dir = await dataDir();
    await mkdir(join(dir, 'store'));
    // A live process that is not this one: the test runner's parent.
    await writeFile(join(dir, 'node.pid'), `${process.ppid}\n`);
    await expect(collectDataDir(dir)).rejects.toMatchObject({
      code: 'DATA_DIR_BUSY',
      message: expect.stringContaining(`the node (pid ${process.ppid}) is running`),
    });
    expect(await holder(dir, 'gc')).toBeUndefined();
    await expect(readFile(join(dir, 'gc.pid'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses while another collection runs there, and a folder that is not a data dir', async () => {
    const dir = await dataDir();
    await expect(collectDataDir(dir)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await mkdir(join(dir, 'store'));
    await writeFile(join(dir, 'gc.pid'), `${process.ppid}\n`);
    await expect(collectDataDir(dir)).rejects.toMatchObject({
      code: 'DATA_DIR_BUSY',
      message: expect.stringContaining('already collecting'),
    });
  });
});

describe('the data dir pid files', () => {
  it('name a live process other than this one; a dead pid (file not kept fresh) or own is stale', async () => {
    const dir = await dataDir();
    expect(await holder(dir, 'node')).toBeUndefined();
    await writeFile(join(dir, 'node.pid'), `${process.ppid}\n`);
    expect(await holder(dir, 'node')).toBe(process.ppid);
    // A pid past any the kernel gives out, in a file its holder no longer keeps fresh.
    await writeFile(join(dir, 'node.pid'), '4194399\n');
    const then = new Date(Date.now() - 10 * 60_000);
    await utimes(join(dir, 'node.pid'), then, then);
    expect(await holder(dir, 'node')).toBeUndefined();
    await writeFile(join(dir, 'node.pid'), 'garbage');
    expect(await holder(dir, 'node')).toBeUndefined();
    const release = await claim(dir, 'node');
    expect(await readFile(join(dir, 'node.pid'), 'utf8')).toMatch(new RegExp(`^${process.pid}\n`));
    // This process's own file is no holder to it.
    expect(await holder(dir, 'node')).toBeUndefined();
    await release();
    await expect(readFile(join(dir, 'node.pid'), 'utf8')).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it("are removed on release only while they are still this process's", async () => {
    const dir = await dataDir();
    const release = await claim(dir, 'node');
    // A node started since wrote its own pid over ours.
    await writeFile(join(dir, 'node.pid'), `${process.ppid}\n`);
    await release();
    expect(await holder(dir, 'node')).toBe(process.ppid);
  });
});
