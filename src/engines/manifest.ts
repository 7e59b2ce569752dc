import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as dagJson from '@ipld/dag-json';
import { z } from 'zod';
import { describeIssues } from '../errors/index.ts';
import { asCidString } from '../ids.ts';
import { runtimeKindSchema } from '../protocol/engines.ts';
import { cidOf, DAG_JSON } from '../store/cid.ts';
import { EngineManifestError } from './errors.ts';
import type { EngineManifest, EnginePackage } from './types.ts';

const MiB = 1024 * 1024;

/** Limits default to what a small text-processing engine needs. */
export const limitsSchema = z
  .strictObject({
    // isolated-vm refuses heaps under 8 MiB.
    memoryMb: z.int().min(8).max(16_384).default(64),
    cpuMs: z.int().min(1).max(3_600_000).default(5_000),
    wallMs: z.int().min(1).max(3_600_000).default(10_000),
    maxOutputBytes: z
      .int()
      .min(0)
      .max(1024 * MiB)
      .default(MiB),
  })
  .refine((l) => l.wallMs >= l.cpuMs, {
    path: ['wallMs'],
    message: 'wallMs must be at least cpuMs',
  });

// A relative path that stays inside the engine folder.
const entryPath = z
  .string()
  .min(1)
  .max(200)
  .refine((p) => !p.startsWith('/') && !p.split(/[\\/]/).includes('..'), {
    message: 'entry must be a path inside the engine folder',
  });

/** An image digest: `sha256:<hex>` (a local image id) or `name@sha256:<hex>` (a registry's). */
export const IMAGE_DIGEST = /^(?:[a-z0-9][a-z0-9._/:-]{0,254}@)?sha256:[a-f0-9]{64}$/;
// A digest, or a local tag (`name[:tag]`), which the docker runtime pins to a digest.
const imageRef = z
  .string()
  .max(400)
  .regex(/^[a-z0-9][a-z0-9._/:@-]*$/, 'an image reference like name:tag or name@sha256:<hex>');

/** An engine's name: what `!run <name>` and allowlists use. */
export const ENGINE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export const manifestSchema = z
  .strictObject({
    name: z.string().regex(ENGINE_NAME, 'lowercase letters, digits, - and _'),
    version: z.string().min(1).max(64),
    runtime: runtimeKindSchema,
    entry: entryPath.optional(),
    image: imageRef.optional(),
    command: z.array(z.string().max(4096)).min(1).max(64).optional(),
    description: z.string().min(1).max(500),
    usage: z.string().max(500).optional(),
    limits: limitsSchema.prefault({}),
    input: z.enum(['bytes', 'json']).default('bytes'),
  })
  .refine((m) => m.runtime !== 'isolated-vm' || m.entry !== undefined, {
    path: ['entry'],
    message: 'an isolated-vm engine needs an entry script',
  })
  .refine((m) => m.runtime !== 'docker' || m.image !== undefined, {
    path: ['image'],
    message: 'a docker engine needs an image',
  }) satisfies z.ZodType<EngineManifest>;

/** Validates a manifest; `source` names where it came from in the error. */
export function parseManifest(value: unknown, source: string): EngineManifest {
  const parsed = manifestSchema.safeParse(value);
  if (!parsed.success) {
    throw new EngineManifestError(
      nameOf(value, source),
      `${source}: ${describeIssues(parsed.error)}`,
    );
  }
  return parsed.data;
}

/** The package's CID: sha2-256 over the dag-json block `{ manifest, code }`. */
export function engineCid(manifest: EngineManifest, code: string) {
  // dag-json refuses `undefined`; a JSON round trip drops absent optional keys.
  const block = dagJson.encode({ manifest: JSON.parse(JSON.stringify(manifest)), code });
  return asCidString(cidOf(DAG_JSON, block).toString());
}

/** Builds a package from a manifest value and code (tests, engines fetched from the mesh). */
export function createEnginePackage(
  manifest: unknown,
  code: string,
  source = 'manifest',
): EnginePackage {
  const valid = parseManifest(manifest, source);
  return { manifest: valid, code, cid: engineCid(valid, code) };
}

export interface LoadOptions {
  signal?: AbortSignal;
}

/** Reads `<dir>/manifest.json` and its entry file. */
export async function loadEngineFolder(
  dir: string,
  opts: LoadOptions = {},
): Promise<EnginePackage> {
  const file = join(dir, 'manifest.json');
  const name = basename(dir);
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, { encoding: 'utf8', signal: opts.signal }));
  } catch (err) {
    throw new EngineManifestError(name, `${file}: ${(err as Error).message}`, { cause: err });
  }
  const manifest = parseManifest(value, file);
  // A docker engine's code is its image, which the manifest names.
  if (manifest.entry === undefined) return { manifest, code: '', cid: engineCid(manifest, '') };
  const entry = join(dir, manifest.entry);
  let code: string;
  try {
    code = await readFile(entry, { encoding: 'utf8', signal: opts.signal });
  } catch (err) {
    throw new EngineManifestError(name, `${entry}: ${(err as Error).message}`, { cause: err });
  }
  return { manifest, code, cid: engineCid(manifest, code) };
}

/**
 * Loads every `<enginesDir>/<name>/manifest.json`, by engine name. With an allowlist, only
 * engines whose name or CID is on it are loaded (a CID pins the exact code).
 */
export async function loadEngines(
  enginesDir: string,
  allowlist?: string[],
  opts: LoadOptions = {},
): Promise<Map<string, EnginePackage>> {
  const allowed = allowlist ? new Set(allowlist) : undefined;
  const engines = new Map<string, EnginePackage>();
  const entries = await readdir(enginesDir, { withFileTypes: true });
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory()) continue;
    const dir = join(enginesDir, entry.name);
    const files = await readdir(dir);
    if (!files.includes('manifest.json')) continue;
    const pkg = await loadEngineFolder(dir, opts);
    if (allowed && !allowed.has(pkg.manifest.name) && !allowed.has(pkg.cid)) continue;
    const name = pkg.manifest.name;
    if (engines.has(name)) {
      throw new EngineManifestError(name, `${dir}: a second engine is named ${name}`);
    }
    engines.set(name, pkg);
  }
  return engines;
}

// The name to blame in an error about an invalid manifest.
function nameOf(value: unknown, source: string): string {
  const name = (value as { name?: unknown } | null)?.name;
  if (typeof name === 'string' && name.length > 0 && name.length <= 64) return name;
  return source.endsWith('manifest.json') ? basename(dirname(source)) : source;
}
