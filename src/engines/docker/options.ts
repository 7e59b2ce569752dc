import { existsSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from '../../log/logger.ts';
import type { EngineLimits } from '../types.ts';

/** Options of the Docker runtime. Every one has a default fit for a friend's laptop. */
export interface DockerRuntimeOptions {
  logger?: Logger;
  /** The Docker engine's socket. Default: `socketFromEnv()`. */
  socketPath?: string;
  /** The API version spoken; pinned so that Debian's docker.io (20.10, API 1.41) answers. Default `v1.41`. */
  apiVersion?: string;
  /** Whether a missing image given as `name@sha256:…` may be pulled from its registry. Default false. */
  pull?: boolean;
  /** Engines accepted, by name or package CID. Default: every package handed to `run`. */
  allowlist?: string[];
  /** The node's ceiling on each limit. Default `DEFAULT_MAX_LIMITS` (512 MiB, 60 s CPU, 120 s wall, 16 MiB out). */
  maxLimits?: Partial<EngineLimits>;
  /** Processes (and threads) a container may have. Default 64. */
  pidsLimit?: number;
  /** CPUs a container may use (a rate, not a time budget), at least 0.01. Default 1. */
  cpus?: number;
  /** Size of the container's writable /tmp (memory-backed, counted in its memory), MiB. Default 16. */
  tmpMb?: number;
  /** The user engines run as: a numeric `uid:gid`, never root. Default `65534:65534` (nobody). */
  user?: string;
  /** Where each run's input and output folders are made. Default `<tmpdir>/meshbot-docker`. */
  workDir?: string;
  /**
   * Who owns the containers this runtime makes, for reaping: a restarted node reaps what it
   * left behind. Default `<hostname>:<pid>`.
   */
  owner?: string;
  /** How long the Docker engine may take to answer at start. Default 5000 ms. */
  startTimeoutMs?: number;
  /** How often the output folder's size is checked during a run, ms. Default 100. */
  watchEveryMs?: number;
}

export interface ResolvedDockerOptions
  extends Required<Omit<DockerRuntimeOptions, 'logger' | 'allowlist' | 'maxLimits'>> {
  allowlist?: string[];
  maxLimits?: Partial<EngineLimits>;
}

const SYSTEM_SOCKET = '/var/run/docker.sock';

/** The smallest CPU share the kernel enforces: a 1 ms quota in Docker's 100 ms period. */
export const MIN_CPUS = 0.01;

/**
 * The Docker socket when the config names none: `$DOCKER_HOST` (`unix://` only: the engine
 * runs on this host), else the system's, else meshbot's private dockerd's
 * (scripts/docker/dockerd.sh) when it is there.
 */
export function socketFromEnv(env: Record<string, string | undefined> = process.env): string {
  const host = env.DOCKER_HOST;
  if (host?.startsWith('unix://')) return host.slice('unix://'.length);
  if (existsSync(SYSTEM_SOCKET)) return SYSTEM_SOCKET;
  const cache = env.MESHBOT_CACHE || join(env.HOME ?? homedir(), '.cache', 'meshbot');
  const mine = join(env.MESHBOT_DOCKER_DIR || join(cache, 'docker'), 'docker.sock');
  return existsSync(mine) ? mine : SYSTEM_SOCKET;
}

export function resolveOptions(opts: DockerRuntimeOptions, tmp: string): ResolvedDockerOptions {
  const user = opts.user ?? '65534:65534';
  if (!/^[1-9][0-9]*:[0-9]+$/.test(user)) {
    throw new Error(`docker user must be a numeric uid:gid other than root, not ${user}`);
  }
  const cpus = opts.cpus ?? 1;
  const pidsLimit = opts.pidsLimit ?? 64;
  // Docker reads NanoCpus 0 (a share under 0.5e-9) and a pids limit of 0 or less as no limit.
  if (!(cpus >= MIN_CPUS)) throw new Error(`docker cpus must be at least ${MIN_CPUS}, not ${cpus}`);
  if (!Number.isInteger(pidsLimit) || pidsLimit < 1) {
    throw new Error(`docker pidsLimit must be a positive integer, not ${pidsLimit}`);
  }
  return {
    socketPath: opts.socketPath ?? socketFromEnv(),
    apiVersion: opts.apiVersion ?? 'v1.41',
    pull: opts.pull ?? false,
    allowlist: opts.allowlist,
    maxLimits: opts.maxLimits,
    pidsLimit,
    cpus,
    tmpMb: opts.tmpMb ?? 16,
    user,
    // Absolute: Docker mounts need it, and so does the keeper (keeper-process.ts).
    workDir: resolve(opts.workDir ?? join(tmp, 'meshbot-docker')),
    owner: opts.owner ?? `${hostname()}:${process.pid}`,
    startTimeoutMs: opts.startTimeoutMs ?? 5000,
    watchEveryMs: opts.watchEveryMs ?? 100,
  };
}
