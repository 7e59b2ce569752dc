import { EngineBadInputError } from '../errors.ts';
import type { EngineLimits, RunRequest } from '../types.ts';
import type { WireError } from './protocol.ts';

const MiB = 1024 * 1024;

/** The node's ceiling on every limit, whatever a manifest or request asks for. */
export const DEFAULT_MAX_LIMITS: EngineLimits = {
  memoryMb: 512,
  cpuMs: 60_000,
  wallMs: 120_000,
  maxOutputBytes: 16 * MiB,
};

const KEYS = ['memoryMb', 'cpuMs', 'wallMs', 'maxOutputBytes'] as const;
// isolated-vm refuses smaller heaps.
const MIN_MEMORY_MB = 8;

/** The limits a run gets: request override, else manifest, each capped by the node maximum. */
export function effectiveLimits(req: RunRequest, max: EngineLimits): EngineLimits {
  const name = req.engine.manifest.name;
  const out = { ...req.engine.manifest.limits };
  for (const key of KEYS) {
    const asked = req.limits?.[key] ?? out[key];
    if (!Number.isInteger(asked) || asked < 0) {
      throw new EngineBadInputError(name, `limit ${key} must be a non-negative integer`);
    }
    out[key] = Math.min(asked, max[key]);
  }
  out.memoryMb = Math.max(MIN_MEMORY_MB, out.memoryMb);
  out.cpuMs = Math.max(1, Math.min(out.cpuMs, out.wallMs));
  out.wallMs = Math.max(1, out.wallMs);
  return out;
}

/**
 * Rejects requests the sandbox process could not take, before anything is sent to it; gives
 * the params as checked, each read once (a getter cannot answer the check one thing and the
 * copy sent another).
 */
export function checkRequest(req: RunRequest): Record<string, string> {
  const name = req.engine.manifest.name;
  if (!(req.input instanceof Uint8Array)) {
    throw new EngineBadInputError(name, 'input must be bytes');
  }
  const params = req.params ?? {};
  if (typeof params !== 'object' || Array.isArray(params)) {
    throw new EngineBadInputError(name, 'params must be an object of strings');
  }
  const copy: Record<string, string> = { ...params };
  for (const key of Object.keys(copy)) {
    if (typeof copy[key] !== 'string') {
      throw new EngineBadInputError(name, `param ${key} must be a string`);
    }
  }
  return copy;
}

/**
 * Under this share of its CPU limit, a task whose CPU window ran out was kept off the CPU.
 * Half, not nearly all: a CPU-bound engine on a machine shared with a few other busy
 * processes still gets most of its window, and is out of CPU time as it would be anywhere.
 */
const STARVED_SHARE = 0.5;

/**
 * isolated-vm's `timeout` is a clock, not the isolate's CPU time: it runs on while the
 * machine gives the CPU to other work. A task that used about its whole CPU limit is over
 * it, and would be on any node; one that used clearly less ran out of time, as at a wall
 * limit, and another attempt may get through. `usedMs` is undefined when it cannot be read.
 */
export function cpuTimeout(
  limitMs: number,
  usedMs: number | undefined,
  message: string,
): WireError {
  if (usedMs === undefined || usedMs >= limitMs * STARVED_SHARE) {
    return { code: 'ENGINE_TIMEOUT', limit: 'cpu', message };
  }
  return { code: 'ENGINE_TIMEOUT', limit: 'wall', message, cpuUsedMs: usedMs };
}
