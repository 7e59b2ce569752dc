import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataFileCorruptError, HeadsFile } from '../../../src/node/heads-file.ts';

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
  it.each([
    ['half a write', '{"origin-a": "hea', 'not JSON'],
    ['a list', '["origin-a"]', 'not a JSON object'],
    ['a head that is no string', '{"origin-a": 5}', 'the head of origin-a is not a string'],
  ])('refuses a file that is %s, naming it and what to do', async (_what, text, why) => {
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-heads-'));
    const file = join(dir, 'heads.json');
    await writeFile(file, text);
    const loading = new HeadsFile(file).load();
    await expect(loading).rejects.toBeInstanceOf(DataFileCorruptError);
    await expect(new HeadsFile(file).load()).rejects.toThrow(
      `${file} is not a heads file (${why})`,
    );
    await rm(dir, { recursive: true });
  });

  it('loads what it wrote, and takes a missing file as no heads', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-heads-'));
    const file = join(dir, 'heads.json');
    const none = new HeadsFile(file);
    await none.load();
    expect(none.entries()).toEqual([]);
    await none.set('origin-a', 'head-1');
    const again = new HeadsFile(file);
    await again.load();
    expect(again.entries()).toEqual([['origin-a', 'head-1']]);
    await rm(dir, { recursive: true });
  });
});
