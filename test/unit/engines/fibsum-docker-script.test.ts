/**
 * fibsum-docker's entry script, run by the host's busybox shell (the image is busybox with
 * this script, so no Docker engine is needed): sums up to 2^53 - 1 are JSON numbers, larger
 * ones decimal strings, as fibsum-reduce answers them. Skipped where the host has no busybox.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SCRIPT = fileURLToPath(
  new URL('../../../engines/fibsum-docker/image/run.sh', import.meta.url),
);
const hasBusybox = spawnSync('busybox', ['true']).status === 0;

function fibsumDocker(n: number): unknown {
  const dir = mkdtempSync(join(tmpdir(), 'meshbot-fibsum-docker-'));
  try {
    writeFileSync(join(dir, 'input'), JSON.stringify({ n }));
    execFileSync('busybox', ['sh', SCRIPT], {
      env: {
        PATH: process.env.PATH,
        MESHBOT_INPUT: join(dir, 'input'),
        MESHBOT_OUTPUT: join(dir, 'output'),
      },
      stdio: 'ignore',
    });
    return JSON.parse(readFileSync(join(dir, 'output'), 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.skipIf(!hasBusybox)('fibsum-docker (its script, by busybox)', () => {
  it('writes a sum up to 2^53 - 1 as a number, whatever its digits', () => {
    expect(fibsumDocker(10)).toEqual({ n: 10, sum: 143 });
    // F(1) + … + F(n) = F(n + 2) - 1: 16 digits from n = 74 to 76, all under 2^53.
    expect(fibsumDocker(74)).toEqual({ n: 74, sum: 3416454622906706 });
    expect(fibsumDocker(76)).toEqual({ n: 76, sum: 8944394323791463 });
  });

  it('writes a larger sum as a decimal string, exactly', () => {
    expect(fibsumDocker(77)).toEqual({ n: 77, sum: '14472334024676220' });
    expect(fibsumDocker(100)).toEqual({ n: 100, sum: '927372692193078999175' });
  });
});
