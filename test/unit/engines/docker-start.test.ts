/**
 * A container that dockerd will not start, against a fake dockerode: a command the image
 * lacks is the engine's fault, told with dockerd's reason, and not retried; the attach
 * stream and the run's folder go with the failed run.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveOptions } from '../../../src/engines/docker/options.ts';
import { runContainer } from '../../../src/engines/docker/run-container.ts';
import { EngineError } from '../../../src/engines/errors.ts';
import { createEnginePackage } from '../../../src/engines/manifest.ts';
import { silentLogger } from '../../../src/log/logger.ts';

// What dockerd answers to POST /containers/{id}/start when the image's command does not exist
// (moby's translateContainerdStartErr: an invalid parameter, 400), as dockerode throws it.
const NOT_FOUND =
  'failed to create task for container: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: "nope": executable file not found in $PATH: unknown';
const dockerodeError = (statusCode: number, message: string) =>
  Object.assign(new Error(`(HTTP code ${statusCode}) unexpected - ${message} `), {
    statusCode,
    json: { message },
  });

const pkg = createEnginePackage(
  {
    name: 'bad-command',
    version: '1',
    runtime: 'docker',
    image: `sha256:${'a'.repeat(64)}`,
    command: ['nope'],
    description: 'x',
  },
  '',
);
const limits = { memoryMb: 32, cpuMs: 1000, wallMs: 2000, maxOutputBytes: 1024 };

let workDir: string;
beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'meshbot-docker-start-'));
});
afterEach(async () => {
  await rm(workDir, { recursive: true, force: true });
});

/** Runs `pkg` where the container's start throws `startError`. */
async function runFailingStart(startError: Error) {
  const stream = new PassThrough();
  let removed = false;
  const container = {
    id: 'c'.repeat(64),
    attach: async () => stream,
    start: async () => {
      throw startError;
    },
    wait: async () => ({ StatusCode: 127 }),
    inspect: async () => ({ State: { OOMKilled: false, Pid: 0 } }),
    kill: async () => {},
    remove: async () => {
      removed = true;
    },
  };
  const docker = {
    createContainer: async () => container,
    modem: { demuxStream: () => {} },
  } as unknown as Docker;
  const opts = resolveOptions({ workDir, owner: 'test' }, tmpdir());
  const images = { ensure: async () => ({ volumes: [] }), forget: () => {} };
  const err = await runContainer(
    { docker, opts, images, logger: silentLogger },
    { engine: pkg, input: new Uint8Array(), params: {} },
    limits,
    new AbortController().signal,
  ).then(
    () => undefined,
    (e: unknown) => e,
  );
  return { err, stream, removed };
}

describe('a container dockerd does not start', () => {
  it('fails as the engine, with dockerd reason, not as a retryable crash', async () => {
    const { err, stream, removed } = await runFailingStart(dockerodeError(400, NOT_FOUND));
    expect(err).toBeInstanceOf(EngineError);
    const e = err as EngineError;
    expect(e.code).toBe('ENGINE_FAILED');
    expect(e.retryable).toBe(false);
    expect(e.userMessage).toBe(
      'bad-command failed: the container did not start: exec: "nope": executable file not found in $PATH',
    );
    // Nothing is left: the attach stream, the container, the run's folder.
    expect(stream.destroyed).toBe(true);
    expect(removed).toBe(true);
    expect(await readdir(workDir)).toEqual([]);
  });

  it('takes the reason from the message when dockerode kept no body', async () => {
    const bare = Object.assign(new Error(`(HTTP code 400) unexpected - ${NOT_FOUND} `), {
      statusCode: 400,
    });
    const { err } = await runFailingStart(bare);
    expect((err as EngineError).message).toBe(
      'bad-command: the container did not start: exec: "nope": executable file not found in $PATH',
    );
  });

  it('is still a crash another attempt may get through when dockerd itself failed', async () => {
    const { err, stream } = await runFailingStart(dockerodeError(500, 'server error'));
    expect(err).toMatchObject({ code: 'ENGINE_CRASHED', retryable: true });
    expect(stream.destroyed).toBe(true);
    expect(await readdir(workDir)).toEqual([]);
  });
});
