/**
 * Audio sent to the room as a message (Element's voice messages are `m.audio` with Ogg/Opus):
 * the input of `!run whisper` sent as a reply to it, or of an automatic transcription. It is
 * fetched like any file a `!run` replies to (matrix/file-message.ts); whisper takes audio only.
 */
import type { FileKind } from '../matrix/file-message.ts';

/** Whether a message carries audio: `m.audio`, or a file whose type says audio. */
export function isAudioMessage(content: Record<string, unknown>): boolean {
  const info = content.info as { mimetype?: unknown } | undefined;
  const mime = typeof info?.mimetype === 'string' ? info.mimetype : '';
  return (
    content.msgtype === 'm.audio' || (content.msgtype === 'm.file' && mime.startsWith('audio/'))
  );
}

/**
 * Whether a message is a voice message (MSC3245: Element, FluffyChat and the bridges mark
 * them), what `!autotranscribe` transcribes. Any audio file would take in a song or a
 * two-hour podcast someone shared, transcribed (and split over the mesh) unasked.
 */
export function isVoiceMessage(content: Record<string, unknown>): boolean {
  return (
    content.msgtype === 'm.audio' &&
    (content['org.matrix.msc3245.voice'] !== undefined || content['m.voice'] !== undefined)
  );
}

/**
 * What `!run whisper` takes from the message it replies to. An image or a PDF would only fail
 * later, on a worker, as audio it cannot decode: refused here, before anything is fetched.
 */
export const AUDIO: FileKind = {
  accepts: isAudioMessage,
  notIt: 'is not a voice or audio message',
  encrypted: 'encrypted audio is not supported yet',
};
