/**
 * The Docker engine runtime (docker-json-runner form): each task runs in a new, locked-down
 * container of an image named by digest (see spec.ts), with its input folder mounted
 * read-only and an output folder. Containers carry labels; every run removes its own
 * container; a deadline keeper (keeper.ts) removes those of a bot that crashed once their
 * wall limit has passed, and a restarted node reaps any left at start (labels.ts).
 */
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import Docker from 'dockerode';
import { silentLogger } from '../../log/logger.ts';
import { createAdmission } from '../admission.ts';
import {
  EngineAbortedError,
  EngineRefusedError,
  EngineRuntimeUnavailableError,
} from '../errors.ts';
import { checkRequest, DEFAULT_MAX_LIMITS, effectiveLimits } from '../ivm/limits.ts';
import { Lifecycle } from '../lifecycle.ts';
import type {
  EngineLimits,
  EnginePackage,
  EngineRuntime,
  RunRequest,
  RunResult,
} from '../types.ts';
import { createImageCache, type ImageCache, isDigest, pinImage } from './image.ts';
import { type Keeper, startKeeper } from './keeper.ts';
import { reapContainers } from './labels.ts';
import { type DockerRuntimeOptions, resolveOptions } from './options.ts';
import { runContainer } from './run-container.ts';
import { reapRunFolders } from './run-folders.ts';

export interface DockerRuntime extends EngineRuntime {
  readonly kind: 'docker';
  /** Runs in flight now. */
  readonly running: number;
  /** Removes the containers a crashed node left behind; returns how many. */
  reap(): Promise<number>;
  /** Pins a package's image tag to the image's digest (a new CID); refuses a missing image. */
  pin(pkg: EnginePackage, opts?: { signal?: AbortSignal }): Promise<EnginePackage>;
}

export function createDockerRuntime(options: DockerRuntimeOptions = {}): DockerRuntime {
  const logger = (options.logger ?? silentLogger).child({ component: 'docker-runtime' });
  const opts = resolveOptions(options, tmpdir());
  const max: EngineLimits = { ...DEFAULT_MAX_LIMITS, ...opts.maxLimits };
  const admitPackage = createAdmission('docker', opts.allowlist);
  const lifecycle = new Lifecycle();
  const docker = new Docker({ socketPath: opts.socketPath, version: opts.apiVersion });
  const images: ImageCache = createImageCache(docker, opts.pull);
  const inFlight = new Set<Promise<unknown>>();
  let stopper = new AbortController();
  let keeper: Keeper | undefined;
  let reaper: NodeJS.Timeout | undefined;

  /**
   * Reaps, and again once the next container of this owner left running falls due: one this
   * node made before it restarted in a new container, whose keeper went with the old one.
   */
  const reap = async (): Promise<number> => {
    const { removed, nextDue } = await reapContainers(docker, opts.owner, logger);
    clearTimeout(reaper);
    reaper = undefined;
    if (nextDue !== undefined && !stopper.signal.aborted) {
      // Within a timer's range (a label is any number), and never in a tight loop.
      const wait = Math.min(Math.max(nextDue - Date.now(), 0) + 1_000, 600_000);
      reaper = setTimeout(() => void reap(), wait);
      reaper.unref();
    }
    return removed;
  };

  // The checks both runtimes make, then Docker's own: an image pinned by digest.
  const admit = (req: RunRequest): string => {
    const name = admitPackage(req.engine, lifecycle.started);
    const image = req.engine.manifest.image;
    if (image === undefined || !isDigest(image)) {
      throw new EngineRefusedError(name, `its image ${image ?? '(none)'} is not pinned by digest`);
    }
    return name;
  };

  const start = async () => {
    stopper = new AbortController();
    try {
      await withTimeout(docker.ping(), opts.startTimeoutMs);
    } catch (err) {
      throw new EngineRuntimeUnavailableError(
        'docker',
        `no Docker engine answers at ${opts.socketPath}: ${(err as Error).message}`,
        { cause: err },
      );
    }
    await mkdir(opts.workDir, { recursive: true, mode: 0o711 });
    await reap();
    // After the containers: none of a dead bot's still has its folder mounted.
    await reapRunFolders(opts.workDir, logger);
    keeper = startKeeper({ socketPath: opts.socketPath, apiVersion: opts.apiVersion, logger });
  };

  return {
    kind: 'docker',
    get running() {
      return inFlight.size;
    },

    start() {
      return lifecycle.start(async () => {
        await start();
        logger.debug('docker runtime started', { socket: opts.socketPath });
      });
    },

    stop() {
      return lifecycle.stop(async () => {
        stopper.abort('the runtime stopped');
        clearTimeout(reaper);
        await Promise.allSettled([...inFlight]);
        await reapContainers(docker, opts.owner, logger, { all: true });
        keeper?.stop();
        keeper = undefined;
      });
    },

    reap,

    async pin(pkg, pinOpts = {}) {
      return pinImage(docker, pkg, images, pinOpts.signal);
    },

    run(req: RunRequest): Promise<RunResult> {
      try {
        const name = admit(req);
        // The params as checked, each read once.
        const checked = { ...req, params: checkRequest(req) };
        const limits = effectiveLimits(req, max);
        const signal = req.signal ? AbortSignal.any([req.signal, stopper.signal]) : stopper.signal;
        if (signal.aborted) throw new EngineAbortedError(name);
        const run = runContainer({ docker, opts, images, logger, keeper }, checked, limits, signal);
        inFlight.add(run);
        void run.catch(() => {}).finally(() => inFlight.delete(run));
        return run;
      } catch (err) {
        return Promise.reject(err);
      }
    },
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
