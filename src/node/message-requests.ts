/**
 * What a room message asks of the mesh besides a plain command: an edit that makes a message
 * a command (never run, answered once), and a voice message taken as `!run whisper`.
 */
import { parseCommand } from '../commands/parse.ts';
import { threadOf } from '../matrix/reply.ts';
import type { RoomEvent } from '../matrix/types.ts';

/** The message an edit changes, when the edit makes it a command. */
export function editedCommand(event: RoomEvent): string | undefined {
  const rel = event.content['m.relates_to'] as { rel_type?: unknown; event_id?: unknown };
  const next = event.content['m.new_content'] as { body?: unknown } | undefined;
  if (rel?.rel_type !== 'm.replace' || typeof rel.event_id !== 'string') return undefined;
  if (typeof next?.body !== 'string') return undefined;
  return parseCommand(next.body, true, true).kind === 'none' ? undefined : rel.event_id;
}

/**
 * What a voice message taken as `!run whisper` relates to: a reply to itself (the input), in
 * the thread it was posted in, if any (its answer goes there).
 */
export function autoRelation(voice: RoomEvent): Record<string, unknown> {
  const thread = threadOf(voice.content['m.relates_to']);
  const reply = { 'm.in_reply_to': { event_id: voice.event_id } };
  return thread === undefined ? reply : { rel_type: 'm.thread', event_id: thread, ...reply };
}
