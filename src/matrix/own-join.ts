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

/**
 * The part of a joined room's timeline (oldest first) from the user's latest join on, and
 * whether the join is in it. A room the user joined since the last sync comes with the
 * room's history before the join; a bot must not take that history for new events.
 */
export function fromOwnJoin(
  events: RoomEvent[],
  userId: string,
): { events: RoomEvent[]; sawJoin: boolean } {
  const at = events.findLastIndex((e) => isOwnJoin(e, userId));
  return at < 0 ? { events, sawJoin: false } : { events: events.slice(at), sawJoin: true };
}
