/**
 * A command line meshbot does not take gets the usage, a message that names what is wrong,
 * and exit code 2: run as a user runs it, through bin/meshbot.js.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../../bin/meshbot.js', import.meta.url));

function meshbot(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, lastLine: r.stderr.trim().split('\n').at(-1) };
}

describe('meshbot usage errors', () => {
  it('names an unknown subcommand of engines and models, and the ones there are', () => {
    expect(meshbot('engines', 'bogus')).toEqual({
      status: 2,
      lastLine: 'Unknown argument: bogus',
    });
    expect(meshbot('engines')).toEqual({ status: 2, lastLine: 'Name a command: pack.' });
    expect(meshbot('models')).toEqual({
      status: 2,
      lastLine: 'Name a command: add, list or fetch.',
    });
  });

  it('add names the file it cannot read, and why', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshbot-add-'));
    const missing = join(dir, 'missing.txt');
    expect(meshbot('add', missing, '--data-dir', join(dir, 'node'))).toEqual({
      status: 2,
      lastLine: `meshbot: cannot read ${missing}: no such file (BAD_INPUT)`,
    });
    expect(meshbot('add', dir, '--data-dir', join(dir, 'node'))).toEqual({
      status: 2,
      lastLine: `meshbot: cannot read ${dir}: it is a folder (BAD_INPUT)`,
    });
  });
});
