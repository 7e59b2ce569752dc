/**
 * Run folders a dead bot of this host left in the Docker work folder go at the next start;
 * those of a live process or of another host, and anything not named like a run folder, stay.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { processScope } from '../../../src/engines/docker/labels.ts';
import { isRunFolder, reapRunFolders, runFolder } from '../../../src/engines/docker/run-folders.ts';
import { createLogger, silentLogger } from '../../../src/log/logger.ts';

let workDir: string | undefined;
afterEach(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** The pid of a process that has exited. */
function deadPid(): number {
  const pid = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  }).stdout;
  return Number(pid);
}

it('removes the run folders of processes that are gone, and nothing else', async () => {
  workDir = await mkdtemp(join(tmpdir(), 'meshbot-run-folders-'));
  const dead = deadPid();
  const host = processScope();
  const names = {
    dead: `${dead}-0123456789ab-${host}`,
    mine: runFolder(workDir, 'ba9876543210').slice(workDir.length + 1),
    init: `1-aaaaaaaaaaaa-${host}`,
    elsewhere: `${dead}-0123456789ab-another-host_4026531836`,
    // Same host, another pid namespace: that pid is not this namespace's to check.
    otherNamespace: `${dead}-0123456789ab-${hostname().replace(/[^A-Za-z0-9.-]/g, '-')}_1`,
    other: 'notes',
    almost: `${dead}-0123456789abc-${host}`,
  };
  for (const name of Object.values(names)) {
    await mkdir(join(workDir, name, 'in'), { recursive: true });
    await writeFile(join(workDir, name, 'in', 'input'), 'left over');
  }
  expect(names.mine).toBe(`${process.pid}-ba9876543210-${host}`);

  expect(await reapRunFolders(workDir, silentLogger)).toBe(1);
  const left = (await readdir(workDir)).sort();
  const kept = [names.almost, names.elsewhere, names.otherNamespace, names.init, names.mine];
  kept.push(names.other);
  expect(left).toEqual(kept.sort());
});

it('is quiet about a work folder that is not there yet', async () => {
  const lines: string[] = [];
  const logger = createLogger({ level: 'debug', write: (line) => lines.push(line) });
  expect(await reapRunFolders(join(tmpdir(), 'meshbot-no-such-folder'), logger)).toBe(0);
  expect(lines).toEqual([]);
});

it('tells a run folder from any other path (the keeper removes only those)', () => {
  expect(isRunFolder(runFolder('/tmp/meshbot-docker', '0123456789ab'))).toBe(true);
  for (const dir of [
    'meshbot-docker/1-0123456789ab-host',
    '/',
    '/etc',
    '/tmp/meshbot-docker',
    '/tmp/1-0123456789ab-host/..',
    '/tmp/1-0123456789ab',
    42,
    undefined,
  ]) {
    expect(isRunFolder(dir)).toBe(false);
  }
});
