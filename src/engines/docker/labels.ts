/**
 * Every container the Docker runtime makes carries these labels, so that what a crashed node
 * left behind can be found and removed (bacalhau's habit): by owner when the same node
 * restarts, by host, pid namespace and pid when the process that made it is gone.
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
} as const;

export function runLabels(owner: string, engine: string, runId: string): Record<string, string> {
  return {
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

/**
 * Removes engine containers of this owner, and those made on this host by a process that is
 * gone. Returns how many were removed. Never throws: reaping is housekeeping.
 */
export async function reapContainers(
  docker: Docker,
  owner: string,
  logger: Logger,
  opts: { all?: boolean } = {},
): Promise<number> {
  let removed = 0;
  try {
    const list = await docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: [LABEL.run] }),
    });
    const host = hostname();
    const ns = pidNamespace();
    for (const c of list) {
      const labels = c.Labels ?? {};
      const pid = Number(labels[LABEL.pid]);
      const here = labels[LABEL.host] === host && labels[LABEL.pidns] === ns;
      const orphan = here && Number.isInteger(pid) && !processAlive(pid);
      const mine = labels[LABEL.owner] === owner && (opts.all || pid !== process.pid);
      if (!orphan && !mine) continue;
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
  return removed;
}
