import type { RoomEvent } from './types.ts';

type Get = (path: string, qs: Record<string, unknown>) => Promise<unknown>;

interface MessagesPage {
  chunk?: RoomEvent[];
  end?: string;
}

export interface GappyRoom {
  timeline?: { events?: RoomEvent[]; limited?: boolean; prev_batch?: string };
}

/** Most events fetched to fill one gap; older ones are given up (and logged by the caller). */
export const BACKFILL_MAX = 5_000;

/**
 * A gappy (limited) sync leaves out what happened between the last sync and the start of
 * its timeline; a mesh event in the gap (an assignment, a lease, a `!run`) would be missed.
 * This fetches the gap with `/messages`, from the timeline's `prev_batch` back to the sync
 * position the last batch ended at, and returns it oldest first. Returns whether the gap
 * was filled completely.
 */
export async function fillGap(
  get: Get,
  roomId: string,
  room: GappyRoom,
  since: string,
): Promise<{ events: RoomEvent[]; complete: boolean }> {
  const timeline = room.timeline;
  if (!timeline?.limited || !timeline.prev_batch) return { events: [], complete: true };
  const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages`;
  const newestFirst: RoomEvent[] = [];
  let from: string | undefined = timeline.prev_batch;
  while (from && newestFirst.length < BACKFILL_MAX) {
    const page = (await get(path, { dir: 'b', from, to: since, limit: 100 })) as MessagesPage;
    const chunk = page.chunk ?? [];
    if (chunk.length === 0) return { events: newestFirst.reverse(), complete: true };
    newestFirst.push(...chunk);
    from = page.end;
  }
  return { events: newestFirst.reverse(), complete: !from };
}
