/**
 * harden.js against V8 itself: the builtins it leaves unfrozen keep V8's fast paths (its
 * "protectors" and RegExp's initial map), and every change a task could make to them is
 * seen, so that the realm is not used again.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const PROBE = fileURLToPath(new URL('../../support/harden-probe.ts', import.meta.url));

it("keeps V8's fast paths, and sees each change to the builtins it does not freeze", () => {
  const probe = spawnSync(
    process.execPath,
    [
      '--no-node-snapshot',
      '--allow-natives-syntax',
      '--disable-warning=ExperimentalWarning',
      PROBE,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  expect(probe.status, probe.stderr).toBe(0);
  const out = JSON.parse(probe.stdout.trim().split('\n').at(-1) as string);
  expect(Object.keys(out.protectors).length).toBe(11);
  const broken = Object.entries(out.protectors).filter(([, intact]) => intact !== true);
  expect(broken).toEqual([]);
  expect(out.intactAtFirst).toBe(true);
  const missed = Object.entries(out.seen).filter(([, seen]) => seen !== true);
  expect(Object.keys(out.seen).length).toBeGreaterThanOrEqual(23);
  expect(missed).toEqual([]);
});
