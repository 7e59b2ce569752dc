/**
 * The CPU limit a container gets from `engines.docker.cpus`: Docker takes NanoCpus 0 as no
 * limit at all, and the kernel takes no quota under 1 ms a 100 ms period (0.01 CPU), so a
 * value under 0.01 must be refused where it is read, not turned into an unlimited container.
 * So with the pids limit, which Docker takes as none at 0 or below.
 */
import { tmpdir } from 'node:os';
import { expect, it } from 'vitest';
import { dockerConfigSchema } from '../../../src/engines/config.ts';
import { resolveOptions } from '../../../src/engines/docker/options.ts';
import { containerSpec } from '../../../src/engines/docker/spec.ts';
import { createEnginePackage } from '../../../src/engines/manifest.ts';

const pkg = createEnginePackage(
  {
    name: 'spin',
    version: '1',
    runtime: 'docker',
    image: `sha256:${'a'.repeat(64)}`,
    description: 'x',
  },
  '',
);

const hostConfig = (o: { cpus?: number; pidsLimit?: number }) =>
  containerSpec({
    pkg,
    limits: pkg.manifest.limits,
    params: {},
    inDir: '/w/in',
    outDir: '/w/out',
    labels: {},
    opts: resolveOptions({ ...o, workDir: '/w' }, tmpdir()),
  }).HostConfig;
const nanoCpus = (cpus: number) => hostConfig({ cpus })?.NanoCpus;

it('refuses a CPU share under 0.01 in the config', () => {
  for (const cpus of [1e-10, 0.001, 0.009]) {
    expect(dockerConfigSchema.safeParse({ cpus }).success, String(cpus)).toBe(false);
  }
  expect(dockerConfigSchema.parse({ cpus: 0.01 }).cpus).toBe(0.01);
});

it('never gives a container an unlimited CPU share', () => {
  expect(() => nanoCpus(1e-10)).toThrow(/cpus/);
  expect(() => nanoCpus(0)).toThrow(/cpus/);
  expect(nanoCpus(0.5)).toBe(500_000_000);
});

it('never gives a container an unlimited number of processes', () => {
  expect(() => hostConfig({ pidsLimit: 0 })).toThrow(/pidsLimit/);
  expect(() => hostConfig({ pidsLimit: -1 })).toThrow(/pidsLimit/);
  expect(hostConfig({ pidsLimit: 8 })?.PidsLimit).toBe(8);
});
