/**
 * A process's resident memory, read from Linux's /proc: the parent's measure of a sandbox
 * process as a whole, whatever allocated it (V8 does not count every allocation against an
 * isolate's limit). Elsewhere it is unknown, and the guards that use it do nothing.
 */
import { readFileSync } from 'node:fs';

/** Resident memory of `pid` in MiB, or undefined when it cannot be read. */
export function residentMb(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  return kb === undefined ? undefined : Number(kb) / 1024;
}
