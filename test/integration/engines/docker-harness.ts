/**
 * What the Docker runtime's integration tests share: the private dockerd the test setup
 * started, one runtime for the file (its own owner label, so that files running side by side
 * never reap each other's containers), the repo's fibsum-docker engine, and helpers to build
 * a test engine on the bare busybox image, run it, and check the runtime survived.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { afterAll, beforeAll, expect, inject } from 'vitest';
import {
  createDockerRuntime,
  type DockerRuntime,
  LABEL,
} from '../../../src/engines/docker/index.ts';
import { createEnginePackage, loadEngineFolder } from '../../../src/engines/manifest.ts';
import type { EngineLimits, EnginePackage, RunResult } from '../../../src/engines/types.ts';

export const docker = inject('docker');
const ENGINES = fileURLToPath(new URL('../../../engines', import.meta.url));
export const text = (s: string) => new TextEncoder().encode(s);
export const str = (b: Uint8Array) => new TextDecoder().decode(b);
/** What a stop may take past a limit (the "limit + 2 s"). */
export const GRACE_MS = 2000;

export { failure } from '../../support/engine-failure.ts';

export interface DockerHarness {
  readonly runtime: DockerRuntime;
  readonly client: Docker;
  readonly fibsum: EnginePackage;
  /** A hostile (or plain) engine: a shell script run on the bare busybox test image. */
  engine(script: string, limits?: Partial<EngineLimits>, name?: string): Promise<EnginePackage>;
  run(pkg: EnginePackage, input?: Uint8Array, params?: Record<string, string>): Promise<RunResult>;
  /** The runtime survived: fibsum-docker right after gives the right answer. */
  expectHealthy(): Promise<void>;
  /** Engine containers of this file's runtime, after the Docker engine has settled. */
  ourContainers(): Promise<string[]>;
}

/** Registers the file's beforeAll/afterAll that start and stop its runtime (as `owner`). */
export function useDockerRuntime(owner: string): DockerHarness {
  let runtime: DockerRuntime | undefined;
  let client: Docker | undefined;
  let fibsum: EnginePackage | undefined;
  beforeAll(async () => {
    if (!docker) return;
    client = new Docker({ socketPath: docker.socketPath, version: 'v1.41' });
    runtime = createDockerRuntime({ socketPath: docker.socketPath, owner });
    await runtime.start();
    await runtime.start(); // idempotent
    fibsum = await runtime.pin(await loadEngineFolder(join(ENGINES, 'fibsum-docker')));
  });
  afterAll(async () => {
    await runtime?.stop();
    await runtime?.stop(); // idempotent
  });

  const need = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the Docker runtime starts in beforeAll');
    return value;
  };
  const run: DockerHarness['run'] = (pkg, input = text(''), params = {}) =>
    need(runtime).run({ engine: pkg, input, params });
  const listOurs = async () => {
    const list = await need(client).listContainers({
      all: true,
      filters: JSON.stringify({ label: [LABEL.run] }),
    });
    return list
      .filter((c) => c.Labels[LABEL.owner] === owner)
      .map((c) => `${c.Labels[LABEL.engine]}: ${c.State} ${c.Status}`);
  };
  return {
    get runtime() {
      return need(runtime);
    },
    get client() {
      return need(client);
    },
    get fibsum() {
      return need(fibsum);
    },
    engine(script, limits = {}, name = 'hostile') {
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
      return need(runtime).pin(pkg);
    },
    run,
    async expectHealthy() {
      const result = await run(need(fibsum), text('{"n": 10}'));
      expect(JSON.parse(str(result.output))).toEqual({ n: 10, sum: 143 });
    },
    async ourContainers() {
      for (let i = 0; i < 20 && (await listOurs()).length > 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      return listOurs();
    },
  };
}
