/**
 * A room's creators and what they weigh, read from its `m.room.create` event as the
 * homeserver reads it. From room version 12 the creators (the event's sender and its
 * `additional_creators`) rank above every power level and are never listed in
 * `m.room.power_levels`; before, the creator has 100 while the room has no power levels
 * event, and only what that event says once there is one.
 */
import type { UserId } from '../ids.ts';
import type { RoomEvent } from '../matrix/types.ts';

/** What the room's creation says about power. */
export interface Creation {
  /** Users above every power level (room version 12 on); empty before. */
  creators: Set<UserId>;
  /** Who has 100 while the room has no power levels event (older versions). */
  creator: UserId | undefined;
}

/** Room versions whose creators rank above every power level (MSC4289). */
function privilegedCreators(version: unknown): boolean {
  if (version === 'org.matrix.hydra.11') return true;
  return typeof version === 'string' && /^[0-9]+$/.test(version) && Number(version) >= 12;
}

export function creationOf(create: RoomEvent | undefined): Creation {
  const none: Creation = { creators: new Set(), creator: undefined };
  if (!create || typeof create.content !== 'object' || create.content === null) return none;
  const content = create.content;
  if (privilegedCreators(content.room_version)) {
    const extra = Array.isArray(content.additional_creators) ? content.additional_creators : [];
    const ids = [create.sender, ...extra].filter((u): u is string => typeof u === 'string');
    return { creators: new Set(ids as UserId[]), creator: undefined };
  }
  // Versions 1 to 10 name the creator in the content; 11 has only the sender.
  const creator = typeof content.creator === 'string' ? content.creator : create.sender;
  return { creators: new Set(), creator: creator as UserId };
}
