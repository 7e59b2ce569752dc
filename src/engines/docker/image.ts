/**
 * Images: engines name them by digest. A node pins a local tag to its digest when it loads an
 * engine, and never pulls unless its config allows it (and then only by registry digest).
 */
import type Docker from 'dockerode';
import { EngineRefusedError } from '../errors.ts';
import { engineCid, IMAGE_DIGEST } from '../manifest.ts';
import type { EnginePackage } from '../types.ts';

export const isDigest = (ref: string): boolean => IMAGE_DIGEST.test(ref);
const pullable = (ref: string): boolean => isDigest(ref) && ref.includes('@');

/** The local image id of `ref`, or undefined when the Docker engine does not have it. */
export async function imageId(docker: Docker, ref: string): Promise<string | undefined> {
  try {
    return (await docker.getImage(ref).inspect()).Id;
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) return undefined;
    throw err;
  }
}

/** What a run needs to know of its image. */
export interface ImageFacts {
  /** The folders the image declares as volumes (`VOLUME`): each gets a small tmpfs, as
   * Docker would otherwise give it an anonymous volume on the host's disk, outside every
   * limit and kept after the container. */
  volumes: string[];
}

export interface ImageCache {
  /** Makes sure the image is here (pulling it when allowed); throws EngineRefusedError. */
  ensure(engine: string, ref: string, signal?: AbortSignal): Promise<ImageFacts>;
  forget(ref: string): void;
}

export function createImageCache(docker: Docker, pull: boolean): ImageCache {
  const present = new Map<string, ImageFacts>();
  return {
    forget: (ref) => present.delete(ref),
    async ensure(engine, ref, signal) {
      const known = present.get(ref);
      if (known) return known;
      if (!isDigest(ref))
        throw new EngineRefusedError(engine, `its image ${ref} is not pinned by digest`);
      if ((await imageId(docker, ref)) === undefined) {
        if (!pull || !pullable(ref)) {
          const why = pull
            ? 'a local image id cannot be pulled'
            : 'pulling images is off here (engines.docker.pull)';
          throw new EngineRefusedError(engine, `its image ${ref} is not on this node and ${why}`);
        }
        await pullImage(docker, engine, ref, signal);
      }
      const info = await docker.getImage(ref).inspect();
      const facts = { volumes: Object.keys(info.Config?.Volumes ?? {}) };
      present.set(ref, facts);
      return facts;
    },
  };
}

async function pullImage(docker: Docker, engine: string, ref: string, signal?: AbortSignal) {
  try {
    const stream = await docker.pull(ref, { abortSignal: signal });
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())),
    );
  } catch (err) {
    throw new EngineRefusedError(
      engine,
      `its image ${ref} could not be pulled: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/** A package whose image is a local tag becomes one pinned to the image's digest (a new CID). */
export async function pinImage(
  docker: Docker,
  pkg: EnginePackage,
  images: ImageCache,
  signal?: AbortSignal,
): Promise<EnginePackage> {
  const { manifest } = pkg;
  const name = manifest.name;
  const ref = manifest.image;
  if (manifest.runtime !== 'docker' || ref === undefined) {
    throw new EngineRefusedError(name, `it needs the ${manifest.runtime} runtime`);
  }
  if (isDigest(ref)) {
    await images.ensure(name, ref, signal);
    return pkg;
  }
  const id = await imageId(docker, ref);
  if (id === undefined) throw new EngineRefusedError(name, `its image ${ref} is not on this node`);
  const pinned = { ...manifest, image: id };
  return { manifest: pinned, code: pkg.code, cid: engineCid(pinned, pkg.code) };
}
