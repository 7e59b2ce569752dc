/**
 * Withdrawing tasks that have not finished: the coordinator marks them cancelled in its book
 * and tells every node with the room's cancel event, so that no later coordinator assigns
 * them and every book agrees on why they ended.
 */
import { MAX_CANCEL_REASON, MESH_EVENT } from '../protocol/manager.ts';
import type { NodeContext } from './context.ts';
import type { MeshRoom } from './mesh-room.ts';

/** Tasks a cancel event may name (its schema's cap). */
const PER_EVENT = 100;

/**
 * Cancels those of `ids` that are not final yet, with `reason` (and their parts), in this
 * book at once and then in the room. Returns those of `ids` it cancelled (none: nothing is
 * sent).
 */
export async function withdraw(
  ctx: NodeContext,
  room: MeshRoom,
  ids: readonly string[],
  reason: string,
): Promise<string[]> {
  const why =
    reason.length > MAX_CANCEL_REASON ? `${reason.slice(0, MAX_CANCEL_REASON - 1)}…` : reason;
  const now = Date.now();
  const cancelled = ids.filter((id) => room.book.cancel(id, why, now));
  if (cancelled.length === 0) return cancelled;
  room.changed();
  // The parts this book cancelled with them (a split's, a pipeline's, a checked task's
  // replicas) are named too: another node's book may not link them to their task (it saw a
  // checked task done, or never read a split's plan), and its run of one would go on.
  const parts = cancelled.flatMap((id) =>
    (room.book.get(id)?.parts ?? []).filter((p) => room.book.get(p)?.state === 'cancelled'),
  );
  const linked = withdrawLinked(room, cancelled, why, now);
  const named = [...new Set([...cancelled, ...parts, ...linked])];
  for (let i = 0; i < named.length; i += PER_EVENT) {
    const content = {
      term: room.election.term,
      tasks: named.slice(i, i + PER_EVENT),
      reason: why,
    };
    await ctx.client.send(room.id, MESH_EVENT.cancel, content, ctx.signal);
  }
  return cancelled;
}

/**
 * Cancels the tasks that name one of `parents` as theirs without being among its parts in this
 * book, which the book's cancel does not reach: a pipeline's tasks another node derived (the
 * coordinator before this one), brought here by their assignments before this node's Evaluator
 * fired their stage. Returns those it cancelled.
 */
function withdrawLinked(
  room: MeshRoom,
  parents: readonly string[],
  why: string,
  now: number,
): string[] {
  const of = new Set(parents);
  return room.book
    .all()
    .filter((r) => r.parent !== undefined && of.has(r.parent) && room.book.cancel(r.id, why, now))
    .map((r) => r.id);
}
