import type { RoomEvent } from './types.ts';

/**
 * Whether an event is the user's own join: a membership change *to* "join". A display name
 * or avatar change is a member event with membership "join" too, but its previous membership
 * (`unsigned.prev_content`, which homeservers add to state events) was "join" already. A
 * server that left `prev_content` out would make such a change look like a join, so the
 * events before it in that batch would be dropped: the safe side, never acting on history.
 */
export function isOwnJoin(event: RoomEvent, userId: string): boolean {
  if (event?.type !== 'm.room.member' || event.state_key !== userId) return false;
  if (event.content?.membership !== 'join') return false;
  const prev = event.unsigned?.prev_content as { membership?: unknown } | undefined;
  return prev?.membership !== 'join';
}

/** Whether an event is the user's own leave: left, kicked or banned. */
export function isOwnLeave(event: RoomEvent, userId: string): boolean {
  if (event?.type !== 'm.room.member' || event.state_key !== userId) return false;
  const membership = event.content?.membership;
  return membership === 'leave' || membership === 'ban';
}

/**
 * The part of a joined room's timeline (oldest first) that the user saw as a member: from its
 * latest join on, and whether the join is in it. A room the user joined since the last sync
 * comes with the room's history before the join; a bot must not take that history for new
 * events. A user that left (or was kicked) and joined again within the batch (`rejoined`)
 * keeps what came up to its leave, the leave included: those events came while it was a
 * member, and it must see that it left; only the time it was out is cut.
 */
export function fromOwnJoin(
  events: RoomEvent[],
  userId: string,
): { events: RoomEvent[]; sawJoin: boolean; rejoined: boolean } {
  const at = events.findLastIndex((e) => isOwnJoin(e, userId));
  if (at < 0) return { events, sawJoin: false, rejoined: false };
  const left = events.slice(0, at).findLastIndex((e) => isOwnLeave(e, userId));
  if (left < 0) return { events: events.slice(at), sawJoin: true, rejoined: false };
  return {
    events: [...events.slice(0, left + 1), ...events.slice(at)],
    sawJoin: true,
    rejoined: true,
  };
}
