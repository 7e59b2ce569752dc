/**
 * A file posted in the room as a message (`m.file`, `m.image`, `m.audio`, `m.video`): the
 * input of a `!run <engine>` sent as a reply to it. The node that takes the command fetches
 * the media from the homeserver and adds it to its block store as `meshbot add` does, so the
 * task names the CID the CLI prints for the same file, and workers fetch its blocks from the
 * mesh like those of any other input.
 */
import type { CID } from 'multiformats/cid';
import { BadInputError, TimeoutError } from '../errors/index.ts';
import type { EventId, RoomId } from '../ids.ts';
import type { Store } from '../store/types.ts';
import { EncryptedFileError, FileTooLargeError, NoFileError } from './file-errors.ts';
import { MediaTooLargeError } from './media.ts';
import type { MeshClient, RoomEvent } from './types.ts';

/** The message types whose content carries one file: at `url`, or in `file` when encrypted. */
const FILE_MSGTYPES = new Set(['m.file', 'm.image', 'm.audio', 'm.video']);

/** Whether a message's content carries a file (of any type). */
export function isFileMessage(content: Record<string, unknown>): boolean {
  return typeof content.msgtype === 'string' && FILE_MSGTYPES.has(content.msgtype);
}

/** The messages a command takes its input from, and what it says of one that is not. */
export interface FileKind {
  /** Which file messages it takes (only those `isFileMessage` is true of are asked). */
  accepts(content: Record<string, unknown>): boolean;
  /** Completes "the message this replies to …" when it is not one. */
  notIt: string;
  /** The refusal of one sent encrypted. */
  encrypted: string;
}

export const ANY_FILE: FileKind = {
  accepts: isFileMessage,
  notIt: 'carries no file (a file, image, audio or video message)',
  encrypted: 'encrypted files are not supported yet',
};

export interface FileFetchOptions {
  /** The largest file taken, bytes (the size a worker will read the input to). */
  maxBytes: number;
  /** Longest the fetch may take, ms: the coordinator handles commands one at a time. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Fetches the file of message `eventId` into the store; a typed error when it has none. */
export async function fileFromMessage(
  deps: { client: MeshClient; store: Pick<Store, 'addBytes'> },
  room: RoomId,
  eventId: EventId,
  kind: FileKind,
  opts: FileFetchOptions,
): Promise<CID> {
  const url = mediaOf(await readEvent(deps.client, room, eventId), kind, opts.maxBytes);
  const deadline = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, deadline]) : deadline;
  try {
    const bytes = await deps.client.download(url, opts.maxBytes, signal);
    return await deps.store.addBytes(bytes, { signal });
  } catch (err) {
    if (err instanceof MediaTooLargeError) throw new FileTooLargeError(opts.maxBytes);
    // The download reports any abort as such; a user is owed which limit it was.
    if (deadline.aborted && !opts.signal?.aborted) {
      throw new TimeoutError(`${url} did not arrive within ${opts.timeoutMs} ms`, {
        cause: err,
        userMessage: `the file did not arrive from the homeserver within ${seconds(opts.timeoutMs)}`,
      });
    }
    throw err;
  }
}

async function readEvent(client: MeshClient, room: RoomId, eventId: EventId): Promise<RoomEvent> {
  if (!client.getEvent) throw new BadInputError('this node cannot read earlier messages');
  try {
    return await client.getEvent(room, eventId);
  } catch (err) {
    throw new BadInputError(`cannot read the message ${eventId}`, { cause: err });
  }
}

/** The `mxc://` address of the file a message carries, checked against `kind` and the cap. */
function mediaOf(event: RoomEvent, kind: FileKind, maxBytes: number): string {
  const content = event.content ?? {};
  if (event.unsigned?.redacted_because !== undefined) {
    throw new BadInputError('the message this replies to was deleted');
  }
  // A message this node could not decrypt (it holds no room keys) is all it sees of one.
  if (event.type === 'm.room.encrypted') throw new EncryptedFileError(kind.encrypted);
  // No file at all is wrong usage; a file of another kind (an image for whisper) is bad input.
  const refusal = `the message this replies to ${kind.notIt}`;
  if (event.type !== 'm.room.message' || !isFileMessage(content)) throw new NoFileError(refusal);
  if (!kind.accepts(content)) throw new BadInputError(refusal);
  if (content.file !== undefined) throw new EncryptedFileError(kind.encrypted);
  const url = content.url;
  if (typeof url !== 'string' || !url.startsWith('mxc://')) {
    throw new BadInputError('the message this replies to has no media to fetch');
  }
  // The sender's word only, but enough to spare a download bound to fail; the cap holds anyway.
  const size = (content.info as { size?: unknown } | undefined)?.size;
  if (typeof size === 'number' && size > maxBytes) throw new FileTooLargeError(maxBytes, size);
  return url;
}

/** A duration for a reply: whole seconds. */
export function seconds(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}
