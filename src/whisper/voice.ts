/**
 * Audio sent to the room as a message (Element's voice messages are `m.audio` with Ogg/Opus):
 * the input of `!run whisper` sent as a reply to it, or of an automatic transcription. The
 * bot fetches the media from the homeserver and adds it to the store; its CID is the input.
 */
import type { CID } from 'multiformats/cid';
import { BadInputError } from '../errors/index.ts';
import type { EventId, RoomId } from '../ids.ts';
import type { MeshClient, RoomEvent } from '../matrix/types.ts';
import type { Store } from '../store/types.ts';

/** Whether a message carries audio: `m.audio`, or a file whose type says audio. */
export function isAudioMessage(content: Record<string, unknown>): boolean {
  const info = content.info as { mimetype?: unknown } | undefined;
  const mime = typeof info?.mimetype === 'string' ? info.mimetype : '';
  return (
    content.msgtype === 'm.audio' || (content.msgtype === 'm.file' && mime.startsWith('audio/'))
  );
}

/**
 * The event a message replies to, if it is a reply. In a thread, an `m.in_reply_to` marked
 * `is_falling_back` only names the thread's latest message (for clients without threads):
 * the message is about the thread's root then (a `!run whisper` in a voice message's thread).
 */
export function repliedTo(relatesTo: unknown): EventId | undefined {
  const rel = relatesTo as
    | {
        rel_type?: unknown;
        event_id?: unknown;
        is_falling_back?: unknown;
        'm.in_reply_to'?: { event_id?: unknown };
      }
    | undefined;
  const fallback = rel?.rel_type === 'm.thread' && rel.is_falling_back === true;
  const id = fallback ? rel?.event_id : rel?.['m.in_reply_to']?.event_id;
  return typeof id === 'string' && id.startsWith('$') ? (id as EventId) : undefined;
}

/** Fetches the audio of message `eventId` into the store; a clear error when it has none. */
export async function audioFromMessage(
  deps: { client: MeshClient; store: Pick<Store, 'addBytes'> },
  room: RoomId,
  eventId: EventId,
  opts: { maxBytes: number; signal?: AbortSignal },
): Promise<CID> {
  const { client } = deps;
  if (!client.getEvent) throw new BadInputError('this node cannot read earlier messages');
  let event: RoomEvent;
  try {
    event = await client.getEvent(room, eventId);
  } catch (err) {
    throw new BadInputError(`cannot read the message ${eventId}`, { cause: err });
  }
  const content = event.content ?? {};
  if (event.unsigned?.redacted_because !== undefined) {
    throw new BadInputError('the message this replies to was deleted');
  }
  if (event.type !== 'm.room.message' || !isAudioMessage(content)) {
    throw new BadInputError('the message this replies to is not a voice or audio message');
  }
  if (content.file !== undefined) {
    throw new BadInputError('encrypted audio is not supported yet (end-to-end encryption)');
  }
  const url = content.url;
  if (typeof url !== 'string' || !url.startsWith('mxc://')) {
    throw new BadInputError('the audio message has no media to fetch');
  }
  const bytes = await client.download(url, opts.maxBytes, opts.signal);
  return deps.store.addBytes(bytes, { signal: opts.signal });
}
