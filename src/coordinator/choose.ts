import type { UserId } from '../ids.ts';

/** The skeleton's term: leases and real terms come with the election issue. */
export const TERM = 1;

/**
 * The coordinator of a room: the live node with the lowest user id. Every node computes the
 * same answer from the same roster; leases and terms arrive with the election issue.
 */
export function chooseCoordinator(liveNodes: readonly UserId[]): UserId | null {
  return [...liveNodes].sort()[0] ?? null;
}

/** A worker for a task: the least-loaded node that runs the engine, ties broken by user id. */
export function chooseWorker(
  candidates: readonly { id: UserId; engines: string[]; load: number }[],
  engine: string,
): UserId | null {
  const able = candidates.filter((c) => c.engines.includes(engine));
  able.sort((a, b) => a.load - b.load || (a.id < b.id ? -1 : 1));
  return able[0]?.id ?? null;
}
