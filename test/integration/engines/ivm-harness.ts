/**
 * What the isolated-vm runtime's integration tests share: one runtime (a real sandbox
 * process) for the file, started before its tests and stopped after, the repo's engines, and
 * helpers to build a test engine, run it, and check the runtime survived.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect } from 'vitest';
import { createIvmRuntime, type IvmRuntime } from '../../../src/engines/ivm/index.ts';
import { createEnginePackage, loadEngines } from '../../../src/engines/manifest.ts';
import type { EngineLimits, EnginePackage, RunRequest } from '../../../src/engines/types.ts';

const ENGINES = fileURLToPath(new URL('../../../engines', import.meta.url));
export const text = (s: string) => new TextEncoder().encode(s);
export const str = (b: Uint8Array) => new TextDecoder().decode(b);

/** A test engine from a code string. */
export function engine(
  code: string,
  opts: { limits?: Partial<EngineLimits>; input?: 'bytes' | 'json'; name?: string } = {},
): EnginePackage {
  const manifest = {
    name: opts.name ?? 'hostile',
    version: '0.0.0',
    runtime: 'isolated-vm',
    entry: 'main.js',
    description: 'built by the test',
    input: opts.input ?? 'bytes',
    limits: { memoryMb: 32, cpuMs: 1000, wallMs: 2000, ...opts.limits },
  };
  return createEnginePackage(manifest, code);
}

export { failure } from '../../support/engine-failure.ts';

export interface IvmHarness {
  /** The file's runtime (set once its beforeAll has run). */
  readonly runtime: IvmRuntime;
  /** One of the repo's engines (engines/<name>). */
  repoEngine(name: string): EnginePackage;
  run(
    pkg: EnginePackage,
    input?: Uint8Array,
    more?: Partial<RunRequest>,
  ): ReturnType<IvmRuntime['run']>;
  /** The runtime survived: a normal task right after gives the right answer. */
  expectHealthy(): Promise<void>;
}

/** Registers the file's beforeAll/afterAll that start and stop its runtime. */
export function useIvmRuntime(): IvmHarness {
  let runtime: IvmRuntime | undefined;
  let engines = new Map<string, EnginePackage>();
  beforeAll(async () => {
    engines = await loadEngines(ENGINES);
    runtime = createIvmRuntime({ killGraceMs: 1500 });
    await runtime.start();
    await runtime.start(); // idempotent
  });
  afterAll(async () => {
    await runtime?.stop();
    await runtime?.stop(); // idempotent
  });

  const started = (): IvmRuntime => {
    if (!runtime) throw new Error('the runtime starts in beforeAll');
    return runtime;
  };
  const repoEngine = (name: string) => {
    const pkg = engines.get(name);
    if (!pkg) throw new Error(`no engine ${name}`);
    return pkg;
  };
  const run: IvmHarness['run'] = (pkg, input = text(''), more = {}) =>
    started().run({ engine: pkg, input, params: {}, ...more });
  return {
    get runtime() {
      return started();
    },
    repoEngine,
    run,
    async expectHealthy() {
      const result = await run(repoEngine('wordcount'), text('still alive\n'));
      expect(JSON.parse(str(result.output))).toEqual({ lines: 1, words: 2, chars: 12 });
    },
  };
}
