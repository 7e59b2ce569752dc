import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { EngineError } from '../../../src/engines/errors.ts';
import {
  createEnginePackage,
  loadEngineFolder,
  loadEngines,
  manifestSchema,
} from '../../../src/engines/manifest.ts';

const ENGINES = fileURLToPath(new URL('../../../engines', import.meta.url));

const minimal = {
  name: 'tiny',
  version: '1.0.0',
  runtime: 'isolated-vm',
  entry: 'main.js',
  description: 'a test engine',
};

/** The error thrown by `fn`, which must throw an EngineError. */
function thrown(fn: () => unknown): EngineError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EngineError);
    return err as EngineError;
  }
  throw new Error('expected an error');
}

const temps: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meshbot-engines-'));
  temps.push(dir);
  return dir;
}
afterEach(async () => {
  for (const dir of temps.splice(0)) await rm(dir, { recursive: true, force: true });
});

describe('engine manifests', () => {
  it("accepts every engine in the repo's engines/ folder", async () => {
    const engines = await loadEngines(ENGINES);
    expect([...engines.keys()].sort()).toEqual([
      'echo',
      'fibsum-docker',
      'fibsum-map',
      'fibsum-reduce',
      'fibsum-split',
      'noop',
      'sha256',
      'sleep',
      'whisper',
      'wordcount',
    ]);
    for (const [name, pkg] of engines) {
      expect(pkg.manifest.name).toBe(name);
      if (pkg.manifest.runtime === 'whisper') {
        // whisper.cpp is the node's own build; the package is its manifest.
        expect(pkg.code).toBe('');
      } else if (pkg.manifest.runtime === 'docker') {
        // The image is the code; a node pins its tag to a digest when it loads it.
        expect(pkg.code).toBe('');
        expect(pkg.manifest.image).toBeDefined();
      } else {
        expect(pkg.code).toContain('function main');
      }
      expect(pkg.cid).toMatch(/^bagu/); // CIDv1, dag-json, base32
    }
  });

  it('needs an entry for isolated-vm and an image for docker', () => {
    const base = { name: 'x', version: '1', description: 'd' };
    expect(() => createEnginePackage({ ...base, runtime: 'isolated-vm' }, '')).toThrow(/entry/);
    expect(() => createEnginePackage({ ...base, runtime: 'docker' }, '')).toThrow(/image/);
    expect(() =>
      createEnginePackage({ ...base, runtime: 'docker', image: 'Bad Image!' }, ''),
    ).toThrow(/image/);
    const pinned = createEnginePackage(
      { ...base, runtime: 'docker', image: `reg.example/x@sha256:${'a'.repeat(64)}` },
      '',
    );
    expect(pinned.manifest.image).toContain('@sha256:');
  });

  it('fills in default limits and input kind', () => {
    const pkg = createEnginePackage(minimal, 'function main() { return 1; }');
    expect(pkg.manifest.limits).toEqual({
      memoryMb: 64,
      cpuMs: 5000,
      wallMs: 10000,
      maxOutputBytes: 1024 * 1024,
    });
    expect(pkg.manifest.input).toBe('bytes');
  });

  it('rejects unknown keys, naming their path', () => {
    const top = thrown(() => createEnginePackage({ ...minimal, colour: 'red' }, ''));
    expect(top.code).toBe('ENGINE_MANIFEST');
    expect(top.message).toContain('colour');
    const nested = thrown(() => createEnginePackage({ ...minimal, limits: { gpu: 1 } }, ''));
    expect(nested.message).toContain('limits.gpu');
  });

  it('rejects bad limits, naming the limit', () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ memoryMb: 4 }, 'limits.memoryMb'],
      [{ cpuMs: -1 }, 'limits.cpuMs'],
      [{ cpuMs: 1.5 }, 'limits.cpuMs'],
      [{ maxOutputBytes: '1MB' }, 'limits.maxOutputBytes'],
      [{ cpuMs: 9000, wallMs: 1000 }, 'limits.wallMs'],
    ];
    for (const [limits, path] of cases) {
      const err = thrown(() => createEnginePackage({ ...minimal, limits }, ''));
      expect(err.message).toContain(path);
    }
  });

  it('rejects an entry outside the engine folder and a bad name', () => {
    expect(manifestSchema.safeParse({ ...minimal, entry: '../secret.js' }).success).toBe(false);
    expect(manifestSchema.safeParse({ ...minimal, entry: '/etc/passwd' }).success).toBe(false);
    expect(manifestSchema.safeParse({ ...minimal, name: 'Has Spaces' }).success).toBe(false);
  });

  it('names the file and the path when a manifest on disk is invalid', async () => {
    const dir = join(await tempDir(), 'broken');
    await cp(join(ENGINES, 'echo'), dir, { recursive: true });
    const file = join(dir, 'manifest.json');
    await writeFile(file, JSON.stringify({ ...minimal, limits: { memoryMb: 'lots' } }));
    const err = await loadEngineFolder(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).code).toBe('ENGINE_MANIFEST');
    expect((err as EngineError).message).toContain(file);
    expect((err as EngineError).message).toContain('limits.memoryMb');
  });

  it('gives the same CID for the same files and a new one when the code changes', async () => {
    const dir = join(await tempDir(), 'wordcount');
    await cp(join(ENGINES, 'wordcount'), dir, { recursive: true });
    const first = await loadEngineFolder(dir);
    const second = await loadEngineFolder(dir);
    expect(second.cid).toBe(first.cid);
    expect((await loadEngineFolder(join(ENGINES, 'wordcount'))).cid).toBe(first.cid);

    await writeFile(join(dir, 'main.js'), `${first.code}\n// changed\n`);
    const changed = await loadEngineFolder(dir);
    expect(changed.cid).not.toBe(first.cid);
  });

  it('keeps the CID when only the formatting of manifest.json changes', async () => {
    const dir = join(await tempDir(), 'echo');
    await cp(join(ENGINES, 'echo'), dir, { recursive: true });
    const before = await loadEngineFolder(dir);
    const reordered = Object.fromEntries(Object.entries(before.manifest).reverse());
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(reordered));
    expect((await loadEngineFolder(dir)).cid).toBe(before.cid);
  });

  it('loads only allowlisted engines, by name or by CID', async () => {
    const all = await loadEngines(ENGINES);
    const sha = all.get('sha256')?.cid as string;
    const some = await loadEngines(ENGINES, ['wordcount', sha]);
    expect([...some.keys()].sort()).toEqual(['sha256', 'wordcount']);
  });
});
