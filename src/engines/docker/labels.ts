/**
 * Every container the Docker runtime makes carries these labels, so that what a crashed node
 * left behind can be found and removed (bacalhau's habit): by host, pid namespace and pid
 * when the process that made it is gone, and by owner once its deadline has passed (the same
 * node restarted in a new container, where that pid means nothing).
 */
import { readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import type Docker from 'dockerode';
import type { Logger } from '../../log/logger.ts';

export const LABEL = {
  /** Marks an engine run container. */
  run: 'org.meshbot.engine-run',
  owner: 'org.meshbot.owner',
  host: 'org.meshbot.host',
  pid: 'org.meshbot.pid',
  /** The pid namespace the pid belongs to (`pid:[4026531836]`). */
  pidns: 'org.meshbot.pidns',
  engine: 'org.meshbot.engine',
  /** When (epoch ms) its bot, if alive, has surely removed it: its wall limit and a margin. */
  deadline: 'org.meshbot.deadline',
} as const;

/**
 * Past its wall limit, how long a container may still be its live bot's: creating, attaching
 * and starting it come before the wall timer, and take seconds on a busy dockerd.
 */
export const DEADLINE_MARGIN_MS = 30_000;

export function runLabels(
  owner: string,
  engine: string,
  runId: string,
  wallMs: number,
): Record<string, string> {
  return {
    [LABEL.deadline]: String(Date.now() + wallMs + DEADLINE_MARGIN_MS),
    [LABEL.run]: runId,
    [LABEL.owner]: owner,
    [LABEL.host]: hostname(),
    [LABEL.pid]: String(process.pid),
    [LABEL.pidns]: pidNamespace(),
    [LABEL.engine]: engine,
  };
}

let namespace: string | undefined;

/**
 * This process's pid namespace, as Linux names it (`pid:[4026531836]`), or `none` where /proc
 * does not say. A pid means a process only within its namespace: bots in containers of their
 * own may share a host name (`--uts=host`, a compose `hostname:`) and a work folder, and
 * another's pid 7 is not this one's pid 7.
 */
export function pidNamespace(): string {
  if (namespace === undefined) {
    try {
      namespace = readlinkSync('/proc/self/ns/pid');
    } catch {
      namespace = 'none';
    }
  }
  return namespace;
}

/** Where a pid is this process's to check: the host name and the pid namespace, as one word
 * of `[A-Za-z0-9._-]` (`vm_4026531836`), fit for a file name. */
export function processScope(): string {
  const host = hostname().replace(/[^A-Za-z0-9.-]/g, '-');
  const ns = pidNamespace().replace(/[^0-9]/g, '') || 'none';
  return `${host}_${ns}`;
}

/** Whether a process of this pid namespace has this pid (one of another user counts too). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Reaped {
  removed: number;
  /** The earliest deadline of a container of this owner left running (epoch ms), if any. */
  nextDue?: number;
}

/**
 * Removes the engine containers that no live bot holds: those made on this host and pid
 * namespace by a process that is gone, and those of this owner whose deadline has passed
 * (or that carry none); with `all` (at stop), this process's own too. A container of this
 * owner made by another process is not removed before its deadline: two bots can share an
 * owner (a hash of their data folder's path, the same in containers of their own) and a
 * dockerd, and that pid, elsewhere, says nothing of whether its bot lives. Never throws:
 * reaping is housekeeping.
 */
export async function reapContainers(
  docker: Docker,
  owner: string,
  logger: Logger,
  opts: { all?: boolean } = {},
): Promise<Reaped> {
  let removed = 0;
  let nextDue: number | undefined;
  try {
    const list = await docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: [LABEL.run] }),
    });
    const host = hostname();
    const ns = pidNamespace();
    const now = Date.now();
    for (const c of list) {
      const labels = c.Labels ?? {};
      const pid = Number(labels[LABEL.pid]);
      const here = labels[LABEL.host] === host && labels[LABEL.pidns] === ns;
      const orphan = here && Number.isInteger(pid) && !processAlive(pid);
      const ours = labels[LABEL.owner] === owner;
      const own = ours && here && pid === process.pid;
      const deadline = Number(labels[LABEL.deadline] ?? Number.NaN);
      const due = ours && !own && !(deadline > now);
      if (!orphan && !due && !(own && opts.all)) {
        if (ours && !own) nextDue = Math.min(nextDue ?? deadline, deadline);
        continue;
      }
      await docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .then(() => removed++)
        .catch((err: unknown) => logger.warn('could not reap a container', { id: c.Id, err }));
    }
  } catch (err) {
    logger.warn('could not list containers to reap', { err });
  }
  if (removed > 0) logger.info('reaped engine containers', { removed });
  return { removed, nextDue };
}
