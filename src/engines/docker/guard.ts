/**
 * The watch over a running container: the caller's signal, the wall limit (noting first
 * whether the pids limit was hit, a fork bomb's mark that goes with the container's cgroup),
 * the output folder's size, and the free space of its disk. The first reason to stop kills
 * the container.
 */
import { statfs } from 'node:fs/promises';
import type Docker from 'dockerode';
import { pidsLimitHits } from './cgroup.ts';
import type { Stop } from './judge.ts';
import { folderSize } from './output.ts';

export interface Guard {
  readonly stopped: Stop | undefined;
  /** Forks the pids limit refused, when the wall limit was reached. */
  readonly forkRefusals: number | undefined;
  stop(why: Stop): void;
  /** Clears the timers and the signal's listener. */
  dispose(): void;
}

export function guardContainer(
  container: Docker.Container,
  opts: { wallMs: number; maxOutputBytes: number; outDir: string; watchEveryMs: number },
  signal: AbortSignal,
): Guard {
  let stopped: Stop | undefined;
  let forkRefusals: number | undefined;
  const stop = (why: Stop) => {
    if (stopped) return;
    stopped = why;
    container.kill({ signal: 'SIGKILL' }).catch(() => {});
  };
  const onAbort = () => stop('abort');
  signal.addEventListener('abort', onAbort, { once: true });
  // An abort that came while the container was being created fires no event now.
  if (signal.aborted) onAbort();
  const wall = setTimeout(() => {
    void withDeadline(pidsHits(container), 250)
      .then((hits) => {
        forkRefusals = hits;
      })
      .finally(() => stop('wall'));
  }, opts.wallMs);
  const disk = diskWatch(opts.outDir);
  const watcher = setInterval(() => {
    void folderSize(opts.outDir).then((size) => {
      if (size > opts.maxOutputBytes) stop('output');
    });
    void disk.low().then((low) => {
      if (low) stop('disk');
    });
  }, opts.watchEveryMs);
  return {
    get stopped() {
      return stopped;
    },
    get forkRefusals() {
      return forkRefusals;
    },
    stop,
    dispose() {
      clearTimeout(wall);
      clearInterval(watcher);
      signal.removeEventListener('abort', onAbort);
    },
  };
}

async function pidsHits(container: Docker.Container): Promise<number | undefined> {
  const pid = (await container.inspect()).State.Pid;
  return pid > 0 ? pidsLimitHits(pid) : undefined;
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([p.catch(() => undefined), late]).finally(() => clearTimeout(timer));
}

const GiB = 1024 ** 3;

/**
 * The free space of the output folder's disk, against a floor: half of what was free when the
 * run began, and at most 1 GiB. The folder's count cannot see files an engine deleted while
 * it holds them open, nor space it reserved with `fallocate --keep-size` in them, which stay
 * taken until the container ends; this stops the container when the disk runs low instead.
 */
export function diskWatch(
  dir: string,
  stat: (dir: string) => Promise<{ bavail: number; bsize: number }> = statfs,
): { low(): Promise<boolean> } {
  const free = async () => {
    const st = await stat(dir);
    return st.bavail * st.bsize;
  };
  const floor = free().then(
    (bytes) => Math.min(GiB, bytes / 2),
    () => undefined,
  );
  return {
    async low() {
      const f = await floor;
      if (f === undefined) return false;
      return free().then(
        (bytes) => bytes < f,
        () => false,
      );
    },
  };
}
