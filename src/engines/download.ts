/**
 * The Runner's Download: an engine package by CID from the node's store, which asks the
 * mesh for blocks it lacks and verifies each against its CID. The package is validated
 * like a local one, and its CID recomputed from what arrived.
 */
import { CID } from 'multiformats/cid';
import type { Store } from '../store/types.ts';
import { EngineManifestError, EngineRefusedError } from './errors.ts';
import { createEnginePackage } from './manifest.ts';
import type { EnginePackage } from './types.ts';

/** Largest engine code accepted from the mesh, characters. */
export const MAX_CODE_CHARS = 4 * 1024 * 1024;

export async function downloadEngine(
  store: Pick<Store, 'getDag'>,
  ref: { name: string; cid: string },
  opts: { signal?: AbortSignal } = {},
): Promise<EnginePackage> {
  let value: unknown;
  try {
    value = await store.getDag(CID.parse(ref.cid), { signal: opts.signal });
  } catch (err) {
    throw new EngineRefusedError(
      ref.name,
      `its package ${ref.cid} could not be fetched: ${(err as Error).message}`,
      {
        cause: err,
        retryable: true,
      },
    );
  }
  const { manifest, code } = (value ?? {}) as { manifest?: unknown; code?: unknown };
  if (typeof code !== 'string' || code.length > MAX_CODE_CHARS) {
    throw new EngineManifestError(ref.name, `package ${ref.cid} has no usable code`);
  }
  const pkg = createEnginePackage(manifest, code, `package ${ref.cid}`);
  if (pkg.cid !== ref.cid) {
    // Only possible when the block held extra keys or non-default values.
    throw new EngineRefusedError(ref.name, `package ${ref.cid} is not in canonical form`);
  }
  if (pkg.manifest.name !== ref.name) {
    throw new EngineRefusedError(ref.name, `package ${ref.cid} is the engine ${pkg.manifest.name}`);
  }
  return pkg;
}

/** The dag-json value of a package: what `meshbot engines pack` stores and Download reads. */
export function packageValue(pkg: EnginePackage): { manifest: unknown; code: string } {
  // dag-json refuses `undefined`; the round trip drops absent optional keys, as engineCid does.
  return { manifest: JSON.parse(JSON.stringify(pkg.manifest)), code: pkg.code };
}
