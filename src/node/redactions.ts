/**
 * A message deleted in a mesh room: when it was a request (a `!run`, or a voice message taken
 * as one), the mesh stops what it asked for.
 * - A request no node took yet is dropped, on every node.
 * - A task it asked for that has not finished is withdrawn: by the acting coordinator with the
 *   room's cancel event (so a node that took the task in meanwhile learns it too), by any
 *   other node in its own book at once. Its answer says why.
 *
 * Only the request's own sender's deletion counts. A homeserver accepts a redaction from
 * anyone on the original sender's server and applies it only if its sender may redact; a node
 * cannot tell the two apart from the redaction event alone.
 */
import { deletedBy } from '../coordinator/task-book.ts';
import { FINAL } from '../coordinator/task-record.ts';
import { redactedId } from '../matrix/redaction.ts';
import type { RoomEvent } from '../matrix/types.ts';
import type { NodeContext } from './context.ts';
import type { MeshRoom } from './mesh-room.ts';
import { withdraw } from './withdraw.ts';

/**
 * Applies an `m.room.redaction`; returns whether it dropped a request or withdrew a task (the
 * coordinator has something to look at).
 */
export function applyRedaction(ctx: NodeContext, room: MeshRoom, event: RoomEvent): boolean {
  const request = redactedId(event);
  if (request === undefined) return false;
  const fields = { room: room.id, request, sender: event.sender };
  const pending = room.book.requests.pending().find((r) => r.id === request);
  const rec = room.book.byRequest(request);
  // Only a request this node knows of (a member's deletions of chat would push real ones out).
  if (!pending && !rec && !room.book.requests.isHandled(request)) return false;
  // Kept even when the task is not known yet: the coordinator may be turning the request into
  // one right now, and every node's book then takes that task as cancelled.
  room.book.requests.deleted(request, event.sender);
  room.changed();
  let acted = false;
  if (pending?.sender === event.sender) {
    room.book.requests.handled(request);
    ctx.log.info('a request was deleted before any node took it: it will not run', fields);
    acted = true;
  }
  if (rec && rec.submitter === event.sender && !FINAL.has(rec.state)) {
    const why = deletedBy(event.sender);
    ctx.log.info('a request was deleted: its task is withdrawn', { ...fields, task: rec.id });
    if (room.election.acting()) {
      void withdraw(ctx, room, [rec.id], why).catch((err: unknown) =>
        ctx.log.warn('could not withdraw the task of a deleted request', { ...fields, err }),
      );
    } else room.book.cancel(rec.id, why, Date.now());
    acted = true;
  }
  return acted;
}
