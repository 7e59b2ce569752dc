/**
 * The Docker runtime against the real private dockerd started by the test setup: the repo's
 * Docker engine gives the right answer, the container is locked down, and containers are
 * reaped with their run folders. Hostile engines: docker-hostile.test.ts.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createDockerRuntime, LABEL } from '../../../src/engines/docker/index.ts';
import { KEEPER_GRACE_MS } from '../../../src/engines/docker/keeper.ts';
import { pidNamespace, processScope } from '../../../src/engines/docker/labels.ts';
import { createEnginePackage } from '../../../src/engines/manifest.ts';
import { docker, failure, GRACE_MS, str, text, useDockerRuntime } from './docker-harness.ts';

const ORPHAN = fileURLToPath(new URL('../../support/docker-orphan.ts', import.meta.url));

describe.skipIf(!docker)('docker runtime', () => {
  const d = useDockerRuntime('docker-runtime-test');

  describe('the repo engine and the contract', () => {
    it('fibsum-docker sums Fibonacci numbers exactly, as JSON', async () => {
      expect(d.fibsum.manifest.image).toMatch(/^sha256:[a-f0-9]{64}$/);
      await d.expectHealthy();
      const big = await d.run(d.fibsum, text('{"n": 100}'));
      expect(JSON.parse(str(big.output))).toEqual({ n: 100, sum: '927372692193078999175' });
      expect(big.logs).toContain('summing F(1)..F(100)');
      const bad = await failure(d.run(d.fibsum, text('{"n": "many"}')));
      expect(bad.err.code).toBe('ENGINE_FAILED');
      expect(bad.err.userMessage).toContain('input must be');
    });

    it('hands input and params as files, and takes stdout when no output file is written', async () => {
      const pkg = await d.engine('cat "$MESHBOT_PARAMS_FILE"; printf " "; cat "$MESHBOT_INPUT"');
      const result = await d.run(pkg, text('hello'), { k: 'v' });
      expect(str(result.output)).toBe('{"k":"v"} hello');
    });

    it('runs as nobody, with no capabilities, no network, a read-only root and input', async () => {
      const pkg = await d.engine(
        [
          'id -u',
          "grep -E '^(CapEff|NoNewPrivs)' /proc/self/status | tr -s '\\t ' ' '",
          "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '",
          'touch /etc/x 2>/dev/null && echo root-writable || echo root-ro',
          'touch /meshbot/in/x 2>/dev/null && echo input-writable || echo input-ro',
          'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max',
        ].join('; '),
      );
      const lines = str((await d.run(pkg)).output)
        .trim()
        .split('\n');
      expect(lines).toEqual([
        '65534',
        'CapEff: 0000000000000000',
        'NoNewPrivs: 1',
        'lo',
        'root-ro',
        'input-ro',
        '64',
      ]);
    });

    it('refuses an unpinned image, a missing image, a forged CID and engines off the allowlist', async () => {
      const unpinned = createEnginePackage(
        {
          name: 'tagged',
          version: '1',
          runtime: 'docker',
          image: 'meshbot-test/busybox:1',
          description: 'd',
        },
        '',
      );
      expect((await failure(d.run(unpinned))).err.userMessage).toContain('not pinned by digest');
      const missing = createEnginePackage(
        {
          name: 'gone',
          version: '1',
          runtime: 'docker',
          image: `sha256:${'0'.repeat(64)}`,
          description: 'd',
        },
        '',
      );
      const gone = await failure(d.run(missing));
      expect(gone.err.code).toBe('ENGINE_REFUSED');
      expect(gone.err.userMessage).toContain('pulling images is off');
      const forged = { ...d.fibsum, cid: (await d.engine('true')).cid };
      expect((await failure(d.run(forged))).err.userMessage).toContain('CID does not match');
      const strict = createDockerRuntime({
        socketPath: docker?.socketPath,
        allowlist: ['wordcount'],
      });
      await strict.start();
      try {
        const off = await failure(strict.run({ engine: d.fibsum, input: text('1'), params: {} }));
        expect(off.err.code).toBe('ENGINE_REFUSED');
        expect(off.err.userMessage).toContain("not on this node's allowlist");
      } finally {
        await strict.stop();
      }
    });

    it('fails an image whose command does not exist, with dockerd reason, and no retry', async () => {
      const pkg = await d.runtime.pin(
        createEnginePackage(
          {
            name: 'no-command',
            version: '0.0.0',
            runtime: 'docker',
            image: docker?.testImage,
            command: ['nope'],
            description: 'built by the test',
            limits: { memoryMb: 32, cpuMs: 2000, wallMs: 3000, maxOutputBytes: 1024 },
          },
          '',
        ),
      );
      const { err } = await failure(d.run(pkg));
      expect(err.code).toBe('ENGINE_FAILED');
      expect(err.retryable).toBe(false);
      expect(err.userMessage).toMatch(/^no-command failed: the container did not start: .*nope/);
      expect(err.userMessage).toContain('not found');
      await d.expectHealthy();
    });

    it('leaves no container behind', async () => {
      await d.expectHealthy();
      expect(await d.ourContainers()).toEqual([]);
    });
  });

  describe('reaping', () => {
    it("removes a crashed bot's container and run folder once its wall limit has passed, not at the next start", async () => {
      const owner = `orphan-${process.pid}`;
      const wallMs = 6_000;
      const workDir = mkdtempSync(join(tmpdir(), 'orphan-work-'));
      const args = [docker?.socketPath, owner, String(wallMs), docker?.testImage, workDir];
      const bot = spawn(process.execPath, [ORPHAN, ...(args as string[])], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const theirs = async () =>
        (
          await d.client.listContainers({
            all: true,
            filters: JSON.stringify({ label: [`${LABEL.owner}=${owner}`] }),
          })
        ).length;
      try {
        await new Promise<void>((resolve, reject) => {
          bot.stdout?.on('data', (b: Buffer) => b.toString().includes('running') && resolve());
          bot.once('exit', (code) => reject(new Error(`the bot exited (${code})`)));
        });
        // The container runs; the bot dies as a crash would end it, well before its wall limit.
        await expect.poll(theirs, { timeout: 10_000 }).toBe(1);
        const folder = new RegExp(`^${bot.pid}-[0-9a-f]{12}-`);
        expect(readdirSync(workDir)).toEqual([expect.stringMatching(folder)]);
        const died = performance.now();
        bot.kill('SIGKILL');
        await new Promise((r) => setTimeout(r, 1_000));
        expect(await theirs()).toBe(1);
        await expect.poll(theirs, { timeout: wallMs + 10_000, interval: 250 }).toBe(0);
        expect(performance.now() - died).toBeLessThan(wallMs + KEEPER_GRACE_MS + GRACE_MS);
        // The run's folder, with its input, goes with it.
        await expect.poll(() => readdirSync(workDir), { timeout: 5_000 }).toEqual([]);
      } finally {
        bot.kill('SIGKILL');
        rmSync(workDir, { recursive: true, force: true });
      }
    });

    it('removes containers and run folders a crashed node left behind, at start', async () => {
      const labels = {
        [LABEL.run]: 'leftover',
        [LABEL.owner]: 'crashed-node',
        [LABEL.host]: 'x',
        [LABEL.pid]: '1',
      };
      const container = async (extra: Record<string, string>) => {
        const c = await d.client.createContainer({
          Image: docker?.testImage,
          Cmd: ['sleep', '1000'],
          Labels: { ...labels, ...extra },
        });
        await c.start();
        return c;
      };
      // This node's own, by owner; a dead bot's of this host and pid namespace (pid 2^22 + 1
      // is over Linux's largest); and one of a live process elsewhere: another pid namespace
      // on this host, where that pid is not this namespace's to check.
      const left = await container({});
      const here = { [LABEL.host]: hostname(), [LABEL.pid]: '4194305' };
      const orphan = await container({
        ...here,
        [LABEL.owner]: 'gone',
        [LABEL.pidns]: pidNamespace(),
      });
      const elsewhere = await container({
        ...here,
        [LABEL.owner]: 'alive-elsewhere',
        [LABEL.pidns]: 'pid:[1]',
      });
      // And a run folder of the dead bot, as the keeper leaves it if it died too.
      const workDir = mkdtempSync(join(tmpdir(), 'leftover-work-'));
      const folder = join(workDir, `4194305-0123456789ab-${processScope()}`);
      mkdirSync(join(folder, 'in'), { recursive: true });
      writeFileSync(join(folder, 'in', 'input'), 'left over');
      const restarted = createDockerRuntime({
        socketPath: docker?.socketPath,
        owner: 'crashed-node',
        workDir,
      });
      await restarted.start();
      try {
        await expect(left.inspect()).rejects.toMatchObject({ statusCode: 404 });
        await expect(orphan.inspect()).rejects.toMatchObject({ statusCode: 404 });
        expect((await elsewhere.inspect()).State.Running).toBe(true);
        expect(readdirSync(workDir)).toEqual([]);
      } finally {
        await elsewhere.remove({ force: true });
        await restarted.stop();
        rmSync(workDir, { recursive: true, force: true });
      }
    });
  });
});
