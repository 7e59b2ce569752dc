/**
 * `meshbot add`, `gc` and `engines pack` work on a node's files. Named by no flag, the node is
 * the one MESHBOT_DATA_DIR names (as a node whose config is in the environment alone keeps its
 * store there), and only without it ./.meshbot/node.
 */
import { access, mkdtemp, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { dataDirOf, defaultDataDir } from '../../../src/cli/data-dir.ts';
import { packCommand } from '../../../src/cli/engines.ts';

describe('the data dir of a CLI command', () => {
  const saved = process.env.MESHBOT_DATA_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.MESHBOT_DATA_DIR;
    else process.env.MESHBOT_DATA_DIR = saved;
    vi.restoreAllMocks();
  });

  it('is MESHBOT_DATA_DIR without flags, else ./.meshbot/node; --data-dir wins', async () => {
    process.env.MESHBOT_DATA_DIR = '/srv/meshbot-node';
    expect(await dataDirOf({})).toBe('/srv/meshbot-node');
    expect(await dataDirOf({ 'data-dir': '/elsewhere' })).toBe('/elsewhere');
    process.env.MESHBOT_DATA_DIR = 'rel-node';
    expect(await dataDirOf({})).toBe(resolve(process.cwd(), 'rel-node'));
    delete process.env.MESHBOT_DATA_DIR;
    expect(await dataDirOf({})).toBe(resolve(process.cwd(), '.meshbot/node'));
    expect(defaultDataDir({ MESHBOT_DATA_DIR: '' })).toBe(resolve('.meshbot/node'));
  });

  it('`engines pack` without flags packs into MESHBOT_DATA_DIR', async () => {
    const dir = await realpath(await mkdtemp(join(tmpdir(), 'meshbot-pack-cli-')));
    process.env.MESHBOT_DATA_DIR = dir;
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    await packCommand.handler({ names: ['echo'], _: [], $0: 'meshbot' });
    expect(String(out.mock.calls[0]?.[0])).toMatch(/^echo\t\S+\n$/);
    await access(join(dir, 'store'));
  });
});
