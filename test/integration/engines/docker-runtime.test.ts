/**
 * The Docker runtime against the real private dockerd started by the test setup: the repo's
 * Docker engine gives the right answer, the container is locked down, and every hostile
 * engine ends with a typed error within its limit + 2 s, without hurting the next task.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createDockerRuntime,
  type DockerRuntime,
  LABEL,
} from '../../../src/engines/docker/index.ts';
import { KEEPER_GRACE_MS } from '../../../src/engines/docker/keeper.ts';
import { EngineError } from '../../../src/engines/errors.ts';
import { createEnginePackage, loadEngineFolder } from '../../../src/engines/manifest.ts';
import type { EngineLimits, EnginePackage } from '../../../src/engines/types.ts';

const docker = inject('docker');
const ENGINES = fileURLToPath(new URL('../../../engines', import.meta.url));
const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);
const GRACE_MS = 2000;
const ORPHAN = fileURLToPath(new URL('../../support/docker-orphan.ts', import.meta.url));

let runtime: DockerRuntime;
let fibsum: EnginePackage;
let client: Docker;

/** A hostile (or plain) engine: a shell script run on the bare busybox test image. */
async function engine(script: string, limits: Partial<EngineLimits> = {}, name = 'hostile') {
  const pkg = createEnginePackage(
    {
      name,
      version: '0.0.0',
      runtime: 'docker',
      image: docker?.testImage,
      command: ['/bin/sh', '-c', script],
      description: 'built by the test',
      limits: { memoryMb: 32, cpuMs: 2000, wallMs: 3000, maxOutputBytes: 1024, ...limits },
    },
    '',
  );
  return runtime.pin?.(pkg) as Promise<EnginePackage>;
}

async function failure(req: Promise<unknown>): Promise<{ err: EngineError; ms: number }> {
  const started = performance.now();
  const err = await req.then(
    () => {
      throw new Error('expected the run to fail');
    },
    (e: unknown) => e,
  );
  expect(err, String(err)).toBeInstanceOf(EngineError);
  return { err: err as EngineError, ms: performance.now() - started };
}

const run = (pkg: EnginePackage, input = text(''), params: Record<string, string> = {}) =>
  runtime.run({ engine: pkg, input, params });

async function expectHealthy(): Promise<void> {
  const result = await run(fibsum, text('{"n": 10}'));
  expect(JSON.parse(str(result.output))).toEqual({ n: 10, sum: 143 });
}

/** Engine containers of this test's runtime, after the Docker engine has settled. */
async function ourContainers(): Promise<string[]> {
  for (let i = 0; i < 20 && (await listOurs()).length > 0; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  return listOurs();
}

async function listOurs(): Promise<string[]> {
  const list = await client.listContainers({
    all: true,
    filters: JSON.stringify({ label: [LABEL.run] }),
  });
  return list
    .filter((c) => c.Labels[LABEL.owner] === 'docker-runtime-test')
    .map((c) => `${c.Labels[LABEL.engine]}: ${c.State} ${c.Status}`);
}

describe.skipIf(!docker)('docker runtime', () => {
  beforeAll(async () => {
    client = new Docker({ socketPath: docker?.socketPath, version: 'v1.41' });
    runtime = createDockerRuntime({ socketPath: docker?.socketPath, owner: 'docker-runtime-test' });
    await runtime.start();
    await runtime.start(); // idempotent
    fibsum = await (runtime.pin?.(
      await loadEngineFolder(join(ENGINES, 'fibsum-docker')),
    ) as Promise<EnginePackage>);
  });

  afterAll(async () => {
    await runtime?.stop();
    await runtime?.stop(); // idempotent
  });

  describe('the repo engine and the contract', () => {
    it('fibsum-docker sums Fibonacci numbers exactly, as JSON', async () => {
      expect(fibsum.manifest.image).toMatch(/^sha256:[a-f0-9]{64}$/);
      await expectHealthy();
      const big = await run(fibsum, text('{"n": 100}'));
      expect(JSON.parse(str(big.output))).toEqual({ n: 100, sum: '927372692193078999175' });
      expect(big.logs).toContain('summing F(1)..F(100)');
      const bad = await failure(run(fibsum, text('{"n": "many"}')));
      expect(bad.err.code).toBe('ENGINE_FAILED');
      expect(bad.err.userMessage).toContain('input must be');
    });

    it('hands input and params as files, and takes stdout when no output file is written', async () => {
      const pkg = await engine('cat "$MESHBOT_PARAMS_FILE"; printf " "; cat "$MESHBOT_INPUT"');
      const result = await run(pkg, text('hello'), { k: 'v' });
      expect(str(result.output)).toBe('{"k":"v"} hello');
    });

    it('runs as nobody, with no capabilities, no network, a read-only root and input', async () => {
      const pkg = await engine(
        [
          'id -u',
          "grep -E '^(CapEff|NoNewPrivs)' /proc/self/status | tr -s '\\t ' ' '",
          "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '",
          'touch /etc/x 2>/dev/null && echo root-writable || echo root-ro',
          'touch /meshbot/in/x 2>/dev/null && echo input-writable || echo input-ro',
          'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max',
        ].join('; '),
      );
      const lines = str((await run(pkg)).output)
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
      expect((await failure(run(unpinned))).err.userMessage).toContain('not pinned by digest');
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
      const gone = await failure(run(missing));
      expect(gone.err.code).toBe('ENGINE_REFUSED');
      expect(gone.err.userMessage).toContain('pulling images is off');
      const forged = { ...fibsum, cid: (await engine('true')).cid };
      expect((await failure(run(forged))).err.userMessage).toContain('CID does not match');
      const strict = createDockerRuntime({
        socketPath: docker?.socketPath,
        allowlist: ['wordcount'],
      });
      await strict.start();
      try {
        const off = await failure(strict.run({ engine: fibsum, input: text('1'), params: {} }));
        expect(off.err.code).toBe('ENGINE_REFUSED');
        expect(off.err.userMessage).toContain("not on this node's allowlist");
      } finally {
        await strict.stop();
      }
    });

    it('leaves no container behind', async () => {
      await expectHealthy();
      expect(await ourContainers()).toEqual([]);
    });
  });

  describe('hostile engines', () => {
    it('stops an infinite loop at the CPU limit', async () => {
      const pkg = await engine('while :; do :; done', { cpuMs: 1000, wallMs: 5000 });
      const { err, ms } = await failure(run(pkg));
      expect(err.code, err.message).toBe('ENGINE_TIMEOUT');
      expect(ms).toBeLessThan(5000 + GRACE_MS);
      await expectHealthy();
    });

    it('stops an engine that never ends at the wall limit', async () => {
      const pkg = await engine('sleep 1000', { cpuMs: 1000, wallMs: 1500 });
      const { err, ms } = await failure(run(pkg));
      expect(err.code, err.message).toBe('ENGINE_TIMEOUT');
      expect((err as EngineError & { limit: string }).limit).toBe('wall');
      expect(ms).toBeLessThan(1500 + GRACE_MS);
      await expectHealthy();
    });

    it('stops a memory bomb at the memory limit', async () => {
      const pkg = await engine('x=0123456789abcdef; while :; do x="$x$x"; done', { memoryMb: 32 });
      const { err, ms } = await failure(run(pkg));
      expect(err.code, err.message).toBe('ENGINE_MEMORY');
      expect(err.userMessage).toContain('32 MiB');
      expect(ms).toBeLessThan(3000 + GRACE_MS);
      await expectHealthy();
    });

    it('contains a fork bomb within the pids limit and stops it', async () => {
      const pkg = await engine('f() { f | f & }; f; sleep 1000', { wallMs: 3000 });
      const { err, ms } = await failure(run(pkg));
      expect(err.code, err.message).toBe('ENGINE_TIMEOUT');
      expect(err.userMessage).toMatch(/hit its limit of 64 processes \(\d+ forks refused\)/);
      expect(ms).toBeLessThan(3000 + GRACE_MS);
      await expectHealthy();
    });

    it('cannot read host files, not even through a link as its output', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'meshbot-secret-'));
      const secret = join(dir, 'secret.txt');
      await writeFile(secret, 'host secret');
      const reader = await engine(`cat ${secret}`);
      const { err } = await failure(run(reader));
      expect(err.code, err.message).toBe('ENGINE_FAILED');
      expect(err.userMessage).toContain('No such file');
      const linker = await engine(`ln -s ${secret} "$MESHBOT_OUTPUT"`);
      const link = await failure(run(linker));
      expect(link.err.code).toBe('ENGINE_OUTPUT');
      expect(link.err.userMessage).toContain('link');
      await expectHealthy();
    });

    it('cannot open a network connection, even to the host loopback', async () => {
      let connections = 0;
      const server: Server = createServer((s) => {
        connections++;
        s.end('hello');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as { port: number }).port;
      try {
        const pkg = await engine(`nc -w 2 127.0.0.1 ${port} </dev/null`);
        const { err, ms } = await failure(run(pkg));
        expect(err.code, err.message).toBe('ENGINE_FAILED');
        expect(ms).toBeLessThan(3000 + GRACE_MS);
        expect(connections).toBe(0);
      } finally {
        server.close();
      }
      await expectHealthy();
    });

    it('stops huge output on stdout, in the output file, and across many files', async () => {
      for (const script of [
        'yes',
        'cat /dev/zero > "$MESHBOT_OUTPUT"',
        'i=0; while :; do head -c 1000 /dev/zero > "$MESHBOT_OUTPUT_DIR/f$i"; i=$((i+1)); done',
      ]) {
        const pkg = await engine(script, { maxOutputBytes: 1024, wallMs: 5000 });
        const { err, ms } = await failure(run(pkg));
        expect(err.code, `${script}: ${err.message}`).toBe('ENGINE_OUTPUT');
        expect(ms, script).toBeLessThan(5000 + GRACE_MS);
      }
      await expectHealthy();
    });

    it('refuses a FIFO as its output file, without waiting for a writer', async () => {
      const pkg = await engine('mkfifo "$MESHBOT_OUTPUT"');
      const { err, ms } = await failure(run(pkg));
      expect(err.code, err.message).toBe('ENGINE_OUTPUT');
      expect(err.message).toContain('not a regular file');
      expect(ms).toBeLessThan(3000 + GRACE_MS);
      await expectHealthy();
    });

    it('gets a small tmpfs for each volume its image declares, and leaves no volume behind', async () => {
      const base = await client.createContainer({ Image: docker?.testImage, Cmd: ['true'] });
      const { Id: image } = await base.commit({ changes: 'VOLUME /data' });
      await base.remove();
      try {
        const before = (await client.listVolumes()).Volumes?.length ?? 0;
        const pkg = createEnginePackage(
          {
            name: 'volume',
            version: '0.0.0',
            runtime: 'docker',
            image,
            command: [
              '/bin/sh',
              '-c',
              "grep ' /data ' /proc/mounts | cut -d' ' -f3; " +
                'dd if=/dev/zero of=/data/x bs=1M count=64 2>/dev/null || echo full',
            ],
            description: 'an image with a VOLUME',
            limits: { memoryMb: 64, cpuMs: 5000, wallMs: 10_000, maxOutputBytes: 1024 },
          },
          '',
        );
        const result = await run(pkg);
        expect(str(result.output).split('\n')).toEqual(['tmpfs', 'full', '']);
        expect((await client.listVolumes()).Volumes?.length ?? 0).toBe(before);
      } finally {
        await client.getImage(image).remove();
      }
    });

    it('caps what an engine logs', async () => {
      const pkg = await engine('while :; do echo "log line" >&2; done', {
        cpuMs: 1000,
        wallMs: 1000,
      });
      const { err } = await failure(run(pkg));
      // Stopped at the wall limit, or (on a loaded machine) ended by its own write error.
      expect(['ENGINE_TIMEOUT', 'ENGINE_FAILED'], err.message).toContain(err.code);
      expect(err.logs.length).toBeLessThanOrEqual(200);
      expect(err.logs.at(-1)).toBe('[log truncated]');
    });

    it('reports a crash mid-run with what it logged', async () => {
      // The script is the container's PID 1, which ignores signals it has no handler for.
      const pkg = await engine('echo "half way" >&2; sh -c \'kill -SEGV $$\'; exit $?');
      const { err, ms } = await failure(run(pkg));
      expect(err.code, err.message).toBe('ENGINE_FAILED');
      expect(err.userMessage).toContain('signal 11');
      expect(err.logs).toContain('half way');
      expect(ms).toBeLessThan(3000 + GRACE_MS);
      await expectHealthy();
    });

    it('stops a run when the caller aborts', async () => {
      const pkg = await engine('sleep 1000', { wallMs: 10_000 });
      const abort = new AbortController();
      const pending = runtime.run({
        engine: pkg,
        input: text(''),
        params: {},
        signal: abort.signal,
      });
      setTimeout(() => abort.abort(), 300);
      const { err, ms } = await failure(pending);
      expect(err.code, err.message).toBe('ENGINE_ABORTED');
      expect(ms).toBeLessThan(300 + GRACE_MS);
      expect(await ourContainers()).toEqual([]);
      await expectHealthy();
    });
  });

  describe('reaping', () => {
    it("removes a crashed bot's container once its wall limit has passed, not at the next start", async () => {
      const owner = `orphan-${process.pid}`;
      const wallMs = 6_000;
      const bot = spawn(
        process.execPath,
        [ORPHAN, docker?.socketPath as string, owner, String(wallMs), docker?.testImage as string],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const theirs = async () =>
        (
          await client.listContainers({
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
        const died = performance.now();
        bot.kill('SIGKILL');
        await new Promise((r) => setTimeout(r, 1_000));
        expect(await theirs()).toBe(1);
        await expect.poll(theirs, { timeout: wallMs + 10_000, interval: 250 }).toBe(0);
        expect(performance.now() - died).toBeLessThan(wallMs + KEEPER_GRACE_MS + GRACE_MS);
      } finally {
        bot.kill('SIGKILL');
      }
    });

    it('removes containers a crashed node left behind, at start', async () => {
      const labels = {
        [LABEL.run]: 'leftover',
        [LABEL.owner]: 'crashed-node',
        [LABEL.host]: 'x',
        [LABEL.pid]: '1',
      };
      const left = await client.createContainer({
        Image: docker?.testImage,
        Cmd: ['sleep', '1000'],
        Labels: labels,
      });
      await left.start();
      const restarted = createDockerRuntime({
        socketPath: docker?.socketPath,
        owner: 'crashed-node',
      });
      await restarted.start();
      try {
        await expect(left.inspect()).rejects.toMatchObject({ statusCode: 404 });
      } finally {
        await restarted.stop();
      }
    });
  });
});
