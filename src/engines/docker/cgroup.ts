/**
 * What a container's cgroup says while it runs: how often it hit its process limit (the mark
 * a fork bomb leaves). Read from the host's cgroup files (v1 or v2), best effort.
 */
import { readFile } from 'node:fs/promises';

/** The cgroup folder of a process for one v1 controller, or its v2 folder. */
async function cgroupDir(pid: number, controller: string): Promise<string | undefined> {
  const lines = (await readFile(`/proc/${pid}/cgroup`, 'utf8')).split('\n');
  const v1 = lines.find((l) => l.split(':')[1]?.split(',').includes(controller));
  if (v1) return `/sys/fs/cgroup/${controller}${v1.split(':')[2]}`;
  const v2 = lines.find((l) => l.startsWith('0::'));
  return v2 ? `/sys/fs/cgroup${v2.slice(3)}` : undefined;
}

/** How many forks the pids limit refused in the cgroup of `pid`; undefined when unknown. */
export async function pidsLimitHits(pid: number): Promise<number | undefined> {
  try {
    const dir = await cgroupDir(pid, 'pids');
    if (!dir) return undefined;
    const events = await readFile(`${dir}/pids.events`, 'utf8');
    const max = /^max (\d+)$/m.exec(events);
    return max ? Number(max[1]) : undefined;
  } catch {
    return undefined;
  }
}
