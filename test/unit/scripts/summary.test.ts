/**
 * The closing line CI reads: skipped tests count as failed unless the run asked for them to
 * be skipped (MESHBOT_DOCKER=off, or a run given a filter).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const SCRIPT = join(import.meta.dirname, '../../../scripts/summary.ts');
const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function summary(
  report: object,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ last: string; code: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'meshbot-summary-'));
  dirs.push(dir);
  const file = join(dir, 'vitest.json');
  await writeFile(file, JSON.stringify(report));
  const { MESHBOT_DOCKER: _, ...rest } = process.env;
  const result = await run(process.execPath, [SCRIPT, file, ...args], { env: { ...rest, ...env } })
    .then((r) => ({ out: r.stdout, code: 0 }))
    .catch((err: { stdout: string; code: number }) => ({ out: err.stdout, code: err.code }));
  return { last: result.out.trim().split('\n').at(-1) as string, code: result.code };
}

const report = (pending: number) => ({
  numPassedTests: 10,
  numFailedTests: 0,
  numPendingTests: pending,
  numTodoTests: 0,
  testResults: [{ status: 'passed', assertionResults: [{}] }],
});

describe('the test summary', () => {
  it('passes a run where every test ran', async () => {
    expect(await summary(report(0), ['0', '0'])).toEqual({ last: '10 passed, 0 failed', code: 0 });
  });

  it('counts skipped tests as failed (no Docker engine started, say)', async () => {
    expect(await summary(report(3), ['0', '0'])).toEqual({ last: '10 passed, 3 failed', code: 1 });
  });

  it('lets them be skipped when MESHBOT_DOCKER=off asks, or the run was given a filter', async () => {
    const off = await summary(report(3), ['0', '0'], { MESHBOT_DOCKER: 'off' });
    expect(off).toEqual({ last: '10 passed, 0 failed', code: 0 });
    expect(await summary(report(3), ['0', '1'])).toEqual({ last: '10 passed, 0 failed', code: 0 });
  });

  it('counts failed static checks', async () => {
    expect(await summary(report(0), ['2', '0'])).toEqual({ last: '10 passed, 2 failed', code: 1 });
  });
  it('fails a run where no test passed, in its line too (all skipped, say)', async () => {
    const none = { ...report(3), numPassedTests: 0 };
    expect(await summary(none, ['0', '1'])).toEqual({ last: '0 passed, 1 failed', code: 1 });
  });

  it("counts vitest's failure when no test failed (an unhandled rejection, say)", async () => {
    const result = await summary(report(0), ['0', '0', '1']);
    expect(result).toEqual({ last: '10 passed, 1 failed', code: 1 });
  });
});
