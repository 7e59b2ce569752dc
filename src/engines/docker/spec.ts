/**
 * The container for one run, locked down as invariant 6 asks: no network, read-only root,
 * every capability dropped, no-new-privileges, a non-root user, pids, memory and CPU limits.
 * The input folder is mounted read-only; the output folder is the only writable host path.
 */
import { posix } from 'node:path';
import type Docker from 'dockerode';
import type { EngineLimits, EnginePackage } from '../types.ts';
import type { ResolvedDockerOptions } from './options.ts';

const MiB = 1024 * 1024;

/** Where an engine finds its input and leaves its output, inside the container. */
export const IN_DIR = '/meshbot/in';
export const OUT_DIR = '/meshbot/out';
export const INPUT_FILE = `${IN_DIR}/input`;
export const PARAMS_FILE = `${IN_DIR}/params.json`;
export const OUTPUT_FILE = `${OUT_DIR}/output`;

// RLIMIT_FSIZE may not stop an engine from using its /tmp, so it is never below this.
const MIN_FILE_SIZE = MiB;

export interface SpecInput {
  pkg: EnginePackage;
  limits: EngineLimits;
  params: Record<string, string>;
  inDir: string;
  outDir: string;
  labels: Record<string, string>;
  opts: ResolvedDockerOptions;
  /** The image's declared volumes: each becomes a tmpfs like /tmp. */
  volumes?: string[];
}

export function containerSpec(s: SpecInput): Docker.ContainerCreateOptions {
  const { manifest } = s.pkg;
  const memory = s.limits.memoryMb * MiB;
  // RLIMIT_CPU counts whole seconds per process: a backstop; the wall timer is the real bound.
  const cpuSeconds = Math.max(1, Math.ceil(s.limits.cpuMs / 1000));
  const fileSize = Math.max(MIN_FILE_SIZE, s.limits.maxOutputBytes + 1);
  return {
    Image: manifest.image,
    Cmd: manifest.command,
    User: s.opts.user,
    Env: [
      `MESHBOT_INPUT=${INPUT_FILE}`,
      `MESHBOT_INPUT_KIND=${manifest.input}`,
      `MESHBOT_PARAMS_FILE=${PARAMS_FILE}`,
      `MESHBOT_OUTPUT_DIR=${OUT_DIR}`,
      `MESHBOT_OUTPUT=${OUTPUT_FILE}`,
      `MESHBOT_MAX_OUTPUT_BYTES=${s.limits.maxOutputBytes}`,
    ],
    Labels: s.labels,
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    OpenStdin: false,
    NetworkDisabled: true,
    HostConfig: {
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      PidsLimit: s.opts.pidsLimit,
      Memory: memory,
      MemorySwap: memory,
      NanoCpus: Math.round(s.opts.cpus * 1e9),
      IpcMode: 'private',
      Binds: [`${s.inDir}:${IN_DIR}:ro`, `${s.outDir}:${OUT_DIR}:rw`],
      Tmpfs: tmpfs(s),
      Ulimits: [
        { Name: 'cpu', Soft: cpuSeconds, Hard: cpuSeconds + 1 },
        { Name: 'fsize', Soft: fileSize, Hard: fileSize },
        { Name: 'nofile', Soft: 256, Hard: 256 },
        { Name: 'core', Soft: 0, Hard: 0 },
      ],
      // Output is read from the attached streams; nothing is kept on the daemon's disk.
      LogConfig: { Type: 'none', Config: {} },
      AutoRemove: false,
    },
  };
}

/**
 * /tmp, and every volume the image declares, as a small tmpfs counted against the memory
 * limit: a declared volume would otherwise be an anonymous volume on the host's disk. The
 * input and output folders keep their mounts.
 */
function tmpfs(s: SpecInput): Record<string, string> {
  const options = `rw,nosuid,nodev,noexec,size=${s.opts.tmpMb}m`;
  const mounts: Record<string, string> = { '/tmp': options };
  for (const path of (s.volumes ?? []).map(volumePath)) {
    if (path === IN_DIR || path === OUT_DIR) continue;
    mounts[path] = options;
  }
  return mounts;
}

/** A declared volume's path as Docker mounts it: normalised, without a trailing slash. */
export function volumePath(path: string): string {
  const normal = posix.normalize(path);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/**
 * Why an image's declared volumes cannot be covered, or undefined: a volume inside the input
 * or output folder would be a host volume there (the output folder's watcher would not see
 * it), and `/` cannot be a volume at all.
 */
export function volumesRefusal(volumes: string[]): string | undefined {
  for (const path of volumes.map(volumePath)) {
    if (path === '/') return 'its image declares / as a volume';
    for (const dir of [IN_DIR, OUT_DIR]) {
      if (path.startsWith(`${dir}/`)) return `its image declares a volume inside ${dir} (${path})`;
    }
  }
  return undefined;
}
