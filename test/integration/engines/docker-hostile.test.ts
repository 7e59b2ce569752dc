/**
 * Hostile engines against the Docker runtime and the real private dockerd, one case per
 * test: each ends with a typed error within its limit + 2 s, without hurting the next task.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EngineError } from '../../../src/engines/errors.ts';
import { createEnginePackage } from '../../../src/engines/manifest.ts';
import { docker, failure, GRACE_MS, str, text, useDockerRuntime } from './docker-harness.ts';

describe.skipIf(!docker)('docker runtime', () => {
  const d = useDockerRuntime('docker-hostile-test');

  describe('hostile engines', () => {
    it('stops an infinite loop at the CPU limit', async () => {
      const pkg = await d.engine('while :; do :; done', { cpuMs: 1000, wallMs: 5000 });
      const { err, ms } = await failure(d.run(pkg));
      expect(err.code, err.message).toBe('ENGINE_TIMEOUT');
      expect(ms).toBeLessThan(5000 + GRACE_MS);
      await d.expectHealthy();
    });

    it('stops an engine that never ends at the wall limit', async () => {
      const pkg = await d.engine('sleep 1000', { cpuMs: 1000, wallMs: 1500 });
      const { err, ms } = await failure(d.run(pkg));
      expect(err.code, err.message).toBe('ENGINE_TIMEOUT');
      expect((err as EngineError & { limit: string }).limit).toBe('wall');
      expect(ms).toBeLessThan(1500 + GRACE_MS);
      await d.expectHealthy();
    });

    it('stops a memory bomb at the memory limit', async () => {
      const pkg = await d.engine('x=0123456789abcdef; while :; do x="$x$x"; done', {
        memoryMb: 32,
      });
      const { err, ms } = await failure(d.run(pkg));
      expect(err.code, err.message).toBe('ENGINE_MEMORY');
      expect(err.userMessage).toContain('32 MiB');
      expect(ms).toBeLessThan(3000 + GRACE_MS);
      await d.expectHealthy();
    });

    it('contains a fork bomb within the pids limit and stops it', async () => {
      const pkg = await d.engine('f() { f | f & }; f; sleep 1000', { wallMs: 3000 });
      const { err, ms } = await failure(d.run(pkg));
      expect(err.code, err.message).toBe('ENGINE_TIMEOUT');
      expect(err.userMessage).toMatch(/hit its limit of 64 processes \(\d+ forks refused\)/);
      expect(ms).toBeLessThan(3000 + GRACE_MS);
      await d.expectHealthy();
    });

    it('cannot read host files, not even through a link as its output', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'meshbot-secret-'));
      const secret = join(dir, 'secret.txt');
      await writeFile(secret, 'host secret');
      const reader = await d.engine(`cat ${secret}`);
      const { err } = await failure(d.run(reader));
      expect(err.code, err.message).toBe('ENGINE_FAILED');
      expect(err.userMessage).toContain('No such file');
      const linker = await d.engine(`ln -s ${secret} "$MESHBOT_OUTPUT"`);
      const link = await failure(d.run(linker));
      expect(link.err.code).toBe('ENGINE_OUTPUT');
      expect(link.err.userMessage).toContain('link');
      await d.expectHealthy();
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
        const pkg = await d.engine(`nc -w 2 127.0.0.1 ${port} </dev/null`);
        const { err, ms } = await failure(d.run(pkg));
        expect(err.code, err.message).toBe('ENGINE_FAILED');
        expect(ms).toBeLessThan(3000 + GRACE_MS);
        expect(connections).toBe(0);
      } finally {
        server.close();
      }
      await d.expectHealthy();
    });

    it('stops huge output on stdout, in the output file, and across many files', async () => {
      for (const script of [
        'yes',
        'cat /dev/zero > "$MESHBOT_OUTPUT"',
        'i=0; while :; do head -c 1000 /dev/zero > "$MESHBOT_OUTPUT_DIR/f$i"; i=$((i+1)); done',
      ]) {
        const pkg = await d.engine(script, { maxOutputBytes: 1024, wallMs: 5000 });
        const { err, ms } = await failure(d.run(pkg));
        expect(err.code, `${script}: ${err.message}`).toBe('ENGINE_OUTPUT');
        expect(ms, script).toBeLessThan(5000 + GRACE_MS);
      }
      await d.expectHealthy();
    });

    it('refuses a FIFO as its output file, without waiting for a writer', async () => {
      const pkg = await d.engine('mkfifo "$MESHBOT_OUTPUT"');
      const { err, ms } = await failure(d.run(pkg));
      expect(err.code, err.message).toBe('ENGINE_OUTPUT');
      expect(err.message).toContain('not a regular file');
      expect(ms).toBeLessThan(3000 + GRACE_MS);
      await d.expectHealthy();
    });

    it('gets a small tmpfs for each volume its image declares, and leaves no volume behind', async () => {
      const base = await d.client.createContainer({ Image: docker?.testImage, Cmd: ['true'] });
      const { Id: image } = await base.commit({ changes: 'VOLUME /data' });
      await base.remove();
      try {
        const before = (await d.client.listVolumes()).Volumes?.length ?? 0;
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
        const result = await d.run(pkg);
        expect(str(result.output).split('\n')).toEqual(['tmpfs', 'full', '']);
        expect((await d.client.listVolumes()).Volumes?.length ?? 0).toBe(before);
      } finally {
        await d.client.getImage(image).remove();
      }
    });

    it('caps what an engine logs', async () => {
      const pkg = await d.engine('while :; do echo "log line" >&2; done', {
        cpuMs: 1000,
        wallMs: 1000,
      });
      const { err } = await failure(d.run(pkg));
      // Stopped at the wall limit, or (on a loaded machine) ended by its own write error.
      expect(['ENGINE_TIMEOUT', 'ENGINE_FAILED'], err.message).toContain(err.code);
      expect(err.logs.length).toBeLessThanOrEqual(200);
      expect(err.logs.at(-1)).toBe('[log truncated]');
    });

    it('reports a crash mid-run with what it logged', async () => {
      // The script is the container's PID 1, which ignores signals it has no handler for.
      const pkg = await d.engine('echo "half way" >&2; sh -c \'kill -SEGV $$\'; exit $?');
      const { err, ms } = await failure(d.run(pkg));
      expect(err.code, err.message).toBe('ENGINE_FAILED');
      expect(err.userMessage).toContain('signal 11');
      expect(err.logs).toContain('half way');
      expect(ms).toBeLessThan(3000 + GRACE_MS);
      await d.expectHealthy();
    });

    it('stops a run when the caller aborts', async () => {
      const pkg = await d.engine('sleep 1000', { wallMs: 10_000 });
      const abort = new AbortController();
      const pending = d.runtime.run({
        engine: pkg,
        input: text(''),
        params: {},
        signal: abort.signal,
      });
      setTimeout(() => abort.abort(), 300);
      const { err, ms } = await failure(pending);
      expect(err.code, err.message).toBe('ENGINE_ABORTED');
      expect(ms).toBeLessThan(300 + GRACE_MS);
      expect(await d.ourContainers()).toEqual([]);
      await d.expectHealthy();
    });
  });
});
