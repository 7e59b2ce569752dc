import { decodeInline } from '../blocks/codec.ts';
import { readTaskBlock, taskInfo } from '../coordinator/task-block.ts';
import type { CheckOutcome } from '../coordinator/task-record.ts';
import type { UserId } from '../ids.ts';
import type { RoomEvent } from '../matrix/types.ts';
import { type AssignEvent, assignSchema, completeSchema, EVENT } from '../protocol/events.ts';
import type { Verdict } from '../protocol/manager.ts';
import {
  acceptSchema,
  cancelSchema,
  leaseSchema,
  MESH_EVENT,
  REPLY_TAG,
  renewSchema,
  replyTagSchema,
  verdictSchema,
} from '../protocol/manager.ts';
import type { NodeContext } from './context.ts';
import type { MeshRoom } from './mesh-room.ts';
import { expandSplit } from './splits.ts';

/** The room events that change the Manager's book, on every node. */
export const BOOK_EVENTS: ReadonlySet<string> = new Set([
  EVENT.assign,
  EVENT.complete,
  MESH_EVENT.accept,
  MESH_EVENT.renew,
  MESH_EVENT.cancel,
  MESH_EVENT.lease,
  MESH_EVENT.verdict,
]);

/**
 * Applies one Manager event to the room's book. The sender must be an admitted node (a
 * forged event from any other member is dropped), and content must match its schema; a
 * coordinator's event must come from the holder of its term, and not from a term older
 * than the newest seen. Returns false when the event was dropped.
 */
export async function applyBookEvent(
  ctx: NodeContext,
  room: MeshRoom,
  event: RoomEvent,
): Promise<boolean> {
  const now = Date.now();
  const view = ctx.roster.view(room.id);
  if (!ctx.admission.isNode(view, event.sender)) {
    return drop(ctx, event, 'sender is not a node of this mesh');
  }
  room.heard(event.sender);
  const { book } = room;
  const { mesh } = ctx.config;
  switch (event.type) {
    case MESH_EVENT.lease: {
      if (event.state_key !== '') return drop(ctx, event, 'lease with a state key');
      const p = leaseSchema.safeParse(event.content);
      if (!p.success || p.data.holder !== event.sender) return drop(ctx, event, 'invalid lease');
      room.election.clock.observe(p.data, now);
      return true;
    }
    case EVENT.assign: {
      const p = assignSchema.safeParse(event.content);
      if (!p.success) return drop(ctx, event, 'invalid assign');
      if (!fromCoordinatorOf(room, p.data.term, event.sender)) {
        const highest = room.election.clock.highestTerm;
        return drop(
          ctx,
          event,
          `assignment from an old term rejected (${p.data.term} < ${highest})`,
        );
      }
      recordAssignments(room, p.data, now, mesh.assignmentLeaseMs);
      break;
    }
    case MESH_EVENT.accept: {
      const p = acceptSchema.safeParse(event.content);
      if (!p.success) return drop(ctx, event, 'invalid accept');
      if (!fromCoordinatorOf(room, p.data.term, event.sender)) return drop(ctx, event, 'old term');
      for (const t of p.data.tasks) acceptBlock(room, t.task, t.block, now);
      break;
    }
    case MESH_EVENT.renew: {
      const p = renewSchema.safeParse(event.content);
      if (!p.success) return drop(ctx, event, 'invalid renew');
      for (const l of p.data.leases) {
        book.renew(event.sender, l.task, l.attempt, mesh.assignmentLeaseMs, now);
      }
      break;
    }
    case EVENT.complete: {
      const p = completeSchema.safeParse(event.content);
      if (!p.success) return drop(ctx, event, 'invalid complete');
      for (const b of p.data.blocks) {
        // One bad block (its CID or its bytes) costs that block, not the event's completions.
        try {
          const { cid, bytes } = decodeInline(b);
          await ctx.store.putBlock(cid, bytes);
        } catch (err) {
          ctx.log.warn('bad result block', { err, sender: event.sender });
        }
      }
      for (const c of p.data.completions) {
        book.complete(event.sender, c, mesh.maxAttempts, now);
        const rec = c.split ? book.get(c.task) : undefined;
        // The plan came inline: every node expands it into the same parts at once.
        if (rec?.state === 'split' && !rec.parts && !rec.pipeline)
          await expandSplit(ctx, room, rec, true);
      }
      break;
    }
    case MESH_EVENT.verdict: {
      const p = verdictSchema.safeParse(event.content);
      if (!p.success) return drop(ctx, event, 'invalid verdict');
      if (!fromCoordinatorOf(room, p.data.term, event.sender)) return drop(ctx, event, 'old term');
      for (const v of p.data.verdicts) applyVerdict(room, v, now);
      for (const node of p.data.released ?? []) room.trust.release(node);
      break;
    }
    case MESH_EVENT.cancel: {
      const p = cancelSchema.safeParse(event.content);
      if (!p.success) return drop(ctx, event, 'invalid cancel');
      if (!fromCoordinatorOf(room, p.data.term, event.sender)) return drop(ctx, event, 'old term');
      const why = p.data.reason ?? 'cancelled by its submitter';
      for (const id of p.data.tasks) book.cancel(id, why, now);
      break;
    }
    default:
      return false;
  }
  room.changed();
  return true;
}

/**
 * A verdict counts once per task, whichever way it reaches this node (the coordinator applies
 * its own at once): the task takes its outcome, and its nodes' trust records their part.
 * Returns the nodes it newly quarantined.
 */
export function applyVerdict(room: MeshRoom, v: Verdict, now: number): string[] {
  if (!room.verdictSeen(v.task)) return [];
  const outcome = verdictOutcome(v);
  if (outcome) room.book.checked(v.task, outcome, now);
  for (const node of v.agreeing) room.trust.agreed(node, now);
  const others = v.agreeing.length;
  const why = `its result for ${v.task} disagreed with ${others} other nodes'`;
  return v.dissenting.filter((node) => room.trust.disagreed(node, why, now));
}

/** What a verdict makes of its task; none from a verdict without `of` (trust only). */
export function verdictOutcome(v: Verdict): CheckOutcome | undefined {
  if (v.of === undefined) return undefined;
  const [worker] = v.agreeing;
  if (v.result !== undefined && worker !== undefined) {
    return { result: v.result, worker, verified: { agreeing: v.agreeing.length, of: v.of } };
  }
  const message =
    v.of < 2
      ? 'no other node could run it to check its result'
      : `the ${v.of} nodes that ran it did not agree on a result`;
  return { error: { code: 'UNVERIFIED', message } };
}

/**
 * A bot's threaded reply: the request is handled, and a tagged task is answered. Only two
 * senders may answer: a coordinator (the holder of a term this node saw), for any request or
 * task; and a worker, for a task it was given and that task's request only, with its attempt
 * in the tag. Any other node's reply is dropped: else one node could end any `!run` with a
 * result of its choice, or silence a request. A coordinator of an older term still counts:
 * its reply is in the room, and a node that restarted reads the newest lease from the room's
 * state before it replays the replies sent under the older one; dropping them would have a
 * request answered twice.
 */
export function applyReply(ctx: NodeContext, room: MeshRoom, event: RoomEvent): void {
  const tag = event.content[REPLY_TAG];
  if (tag === undefined) return;
  if (!ctx.admission.isNode(ctx.roster.view(room.id), event.sender)) return;
  const parsed = replyTagSchema.safeParse(tag);
  const rel = event.content['m.relates_to'] as { 'm.in_reply_to'?: { event_id?: unknown } };
  const request = rel?.['m.in_reply_to']?.event_id;
  if (!parsed.success || typeof request !== 'string') return;
  const { task, state, result, error, attempt } = parsed.data;
  const worker = attempt === undefined ? undefined : event.sender;
  if (worker) {
    // A worker's own answer counts only from a node the task was given to.
    if (!task || !room.book.wasAssigned(task, worker)) {
      drop(ctx, event, 'answer from a node the task was not assigned to');
      return;
    }
    // And only to the task's own request: else a worker could silence any other command.
    const own = room.book.get(task)?.request;
    if (request !== own || (parsed.data.request ?? own) !== own) {
      drop(ctx, event, "a worker's answer to another request than its task's");
      return;
    }
  } else if (!room.election.clock.held(event.sender)) {
    drop(ctx, event, 'answer from a node that never coordinated');
    return;
  }
  room.heard(event.sender);
  room.book.requests.handled(request);
  if (parsed.data.request !== undefined) room.book.requests.handled(parsed.data.request);
  if (task) room.book.answered(task, state, Date.now(), { result, error, worker });
  room.changed();
}

/** Records a coordinator's assignments (the worker side checks its own separately). */
export function recordAssignments(
  room: MeshRoom,
  data: AssignEvent,
  now: number,
  defaultLeaseMs: number,
): void {
  for (const a of data.assignments) {
    if (!acceptBlock(room, a.task, a.block, now)) continue;
    room.book.assign(
      a.task,
      { worker: a.worker, attempt: a.attempt, term: data.term },
      data.leaseMs ?? defaultLeaseMs,
      now,
    );
  }
}

function acceptBlock(room: MeshRoom, id: string, block: string, now: number): boolean {
  try {
    const task = readTaskBlock(id, block);
    if (task.room !== room.id) return false;
    room.book.accept(id, block, taskInfo(task), now);
    return true;
  } catch {
    return false;
  }
}

/** Whether `sender` holds `term` (seen in a lease event), and no newer term was seen. */
export function fromCoordinatorOf(room: MeshRoom, term: number, sender: UserId): boolean {
  // Terms come from lease events only, which precede the holder's Manager events in the
  // timeline: a made-up term from anyone else can never outrank the real coordinator.
  const clock = room.election.clock;
  return term >= clock.highestTerm && clock.holderOf(term) === sender;
}

function drop(ctx: NodeContext, event: RoomEvent, why: string): false {
  ctx.log.warn('mesh event dropped', { why, type: event.type, sender: event.sender });
  return false;
}
