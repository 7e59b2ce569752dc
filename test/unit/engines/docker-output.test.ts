/**
 * The Docker runtime's reading of the output folder, which hostile code wrote: sizes count
 * the disk an engine took, whatever the file's length says; a folder that cannot be read is
 * over the cap; a FIFO as the output file is refused at once.
 */
import { execFile } from 'node:child_process';
import { access, chmod, lstat, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { folderSize, readOutputFile } from '../../../src/engines/docker/output.ts';
import { removeRunFolder } from '../../../src/engines/docker/run-folders.ts';
import { createLogger } from '../../../src/log/logger.ts';

const run = promisify(execFile);
const OUTPUT_TS = fileURLToPath(new URL('../../../src/engines/docker/output.ts', import.meta.url));
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshbot-docker-out-'));
});
afterEach(async () => {
  await chmod(dir, 0o700).catch(() => {});
  await rm(dir, { recursive: true, force: true }).catch(() => run('rm', ['-rf', dir]));
});

describe('the output folder', () => {
  it('counts the blocks a file holds when they are more than its length', async () => {
    await writeFile(join(dir, 'small'), 'x'.repeat(100));
    // fallocate --keep-size: 8 MiB of disk, a length of 0, and no RLIMIT_FSIZE check.
    await writeFile(join(dir, 'kept'), '');
    await run('fallocate', ['--keep-size', '--length', '8MiB', join(dir, 'kept')]);
    expect(await folderSize(dir)).toBeGreaterThanOrEqual(8 * 1024 * 1024);
  });

  it('counts the blocks a folder keeps from the entries it once held', async () => {
    // A folder grows with its entries and, on ext4, keeps its blocks once they are removed:
    // within the entry cap at every check, an engine leaves hundreds of such folders.
    const grown = join(dir, 'grown');
    await mkdir(grown);
    const names = Array.from({ length: 1500 }, (_, i) => join(grown, `${i}`.padStart(250, 'x')));
    await Promise.all(names.map((name) => writeFile(name, '')));
    await Promise.all(names.map((name) => rm(name)));
    const st = await lstat(grown);
    // Where folders give their blocks back (tmpfs, btrfs, XFS), there is nothing to count.
    const kept = Math.max(0, st.blocks * 512 - 4096);
    expect(await folderSize(dir)).toBe(kept);
  });

  it('counts a folder it cannot read as over any cap', async () => {
    const hidden = join(dir, 'hidden');
    await mkdir(hidden);
    await writeFile(join(hidden, 'f'), 'x');
    await chmod(hidden, 0o000);
    // Measured by a process without the capabilities that let root read any folder (a bot
    // that is not root, facing a folder an engine made private to its own user).
    const script = `import { folderSize } from ${JSON.stringify(OUTPUT_TS)};
      console.log(await folderSize(process.argv[1]));`;
    const { stdout } = await run('setpriv', [
      '--bounding-set=-dac_override,-dac_read_search',
      process.execPath,
      '--input-type=module',
      '-e',
      script,
      dir,
    ]);
    expect(stdout.trim()).toBe('Infinity');
  });

  it('refuses a FIFO as the output file at once', async () => {
    await run('mkfifo', [join(dir, 'output')]);
    const started = performance.now();
    expect(await readOutputFile(dir, 1024)).toEqual({
      kind: 'bad',
      reason: 'the output is not a regular file',
    });
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe('a run folder nested past the longest host path', () => {
  /** Folders of 250-character names, 20 deep, made with relative paths as an engine would. */
  async function deep(): Promise<void> {
    const cwd = process.cwd();
    const name = 'd'.repeat(250);
    try {
      process.chdir(dir);
      for (let i = 0; i < 20; i++) {
        await mkdir(name);
        process.chdir(name);
      }
      await writeFile('bottom', 'x'.repeat(10_000));
    } finally {
      process.chdir(cwd);
    }
  }

  it('counts as over the cap', async () => {
    await deep();
    expect(await folderSize(dir)).toBe(Number.POSITIVE_INFINITY);
  });

  it('is removed all the same', async () => {
    await deep();
    const logs: string[] = [];
    await removeRunFolder(dir, createLogger({ level: 'debug', write: (l) => logs.push(l) }));
    await expect(access(dir)).rejects.toThrow();
    expect(logs.filter((l) => l.includes('could not remove'))).toEqual([]);
  });
});
