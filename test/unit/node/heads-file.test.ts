import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HeadsFile } from '../../../src/node/heads-file.ts';

describe('HeadsFile', () => {
  it('writes again after one write failed (a full disk that got space back)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-heads-'));
    // The file's folder cannot be made while a file has its name: the first write fails.
    const folder = join(dir, 'data');
    await writeFile(folder, 'not a folder');
    const heads = new HeadsFile(join(folder, 'heads.json'));
    await expect(heads.set('origin-a', 'head-1')).rejects.toThrow();
    await rm(folder);
    await heads.set('origin-a', 'head-2');
    expect(JSON.parse(await readFile(join(folder, 'heads.json'), 'utf8'))).toEqual({
      'origin-a': 'head-2',
    });
  });
});
