/**
 * Packaging: each engine folder becomes one dag-json block `{ manifest, code }` in a node's
 * store, whose CID is the engine's identity. Same files, same CID; a docker engine's image
 * tag is pinned to the image's digest first, so its CID names the exact image.
 */
import { join } from 'node:path';
import { silentLogger } from '../log/logger.ts';
import { createStore } from '../store/index.ts';
import type { Store } from '../store/types.ts';
import { createDockerRuntime } from './docker/index.ts';
import { packageValue } from './download.ts';
import { EngineManifestError } from './errors.ts';
import { loadEngines } from './manifest.ts';
import type { EnginePackage } from './types.ts';

export interface PackOptions {
  /** The engines folder. */
  dir: string;
  /** Engine names to pack; empty: all. */
  names?: string[];
  /** Docker's socket, to pin docker engines' images. Default `$DOCKER_HOST` or the standard one. */
  dockerSocket?: string;
  signal?: AbortSignal;
}

export interface Packed {
  name: string;
  cid: string;
  runtime: string;
  /** Why it could not be packed, if it could not. */
  error?: string;
}

/** Packs engines into a started store; returns one line of news per engine. */
export async function packEngines(
  store: Pick<Store, 'putDag'>,
  opts: PackOptions,
): Promise<Packed[]> {
  const all = await loadEngines(opts.dir, undefined, { signal: opts.signal });
  const names = opts.names?.length ? opts.names : [...all.keys()];
  const out: Packed[] = [];
  let docker: ReturnType<typeof createDockerRuntime> | undefined;
  try {
    for (const name of names) {
      const local = all.get(name);
      if (!local) throw new EngineManifestError(name, `no engine ${name} in ${opts.dir}`);
      let pkg: EnginePackage = local;
      try {
        if (local.manifest.runtime === 'docker') {
          docker ??= createDockerRuntime({ socketPath: opts.dockerSocket });
          await docker.start();
          pkg = await docker.pin(local, { signal: opts.signal });
        }
        const cid = await store.putDag(packageValue(pkg), { signal: opts.signal });
        out.push({ name, cid: cid.toString(), runtime: pkg.manifest.runtime });
      } catch (err) {
        out.push({ name, cid: '', runtime: local.manifest.runtime, error: (err as Error).message });
      }
    }
  } finally {
    await docker?.stop();
  }
  return out;
}

/** Packs into the store under a node's data dir (a running node sees the blocks at once). */
export async function packIntoDataDir(dataDir: string, opts: PackOptions): Promise<Packed[]> {
  const store = createStore({ dir: join(dataDir, 'store'), logger: silentLogger });
  await store.start();
  try {
    return await packEngines(store, opts);
  } finally {
    await store.stop();
  }
}
