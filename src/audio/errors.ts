import { MeshError } from '../errors/index.ts';
import { type AudioFormat, FORMAT_LABELS } from './types.ts';

export type AudioErrorCode =
  /** Not audio, or audio in a container/codec we do not decode. */
  | 'AUDIO_UNSUPPORTED'
  /** The format is one we take, but the decoder failed or produced no sound. */
  | 'AUDIO_CORRUPT'
  /** Longer than the caller's limit; decoding stopped as soon as that was known. */
  | 'AUDIO_TOO_LONG';

/** What the room is told we accept: the same list for every refusal. */
export const ACCEPTED_FORMATS_TEXT =
  'voice messages (Ogg/Opus), MP3, M4A/AAC, WAV, FLAC, Ogg/Vorbis or WebM audio';

/**
 * Every failure of the audio layer. None is retryable: the same bytes give the same answer,
 * so the fix is a different file, which the user message says.
 */
export class AudioError extends MeshError {
  declare readonly code: AudioErrorCode;

  constructor(code: AudioErrorCode, message: string, userMessage: string, cause?: unknown) {
    super(code, message, { retryable: false, userMessage, cause });
  }
}

export class AudioUnsupportedError extends AudioError {
  /** What the bytes look like instead, e.g. 'a PNG image' or 'Ogg/Speex audio'. */
  readonly detected: string | undefined;

  constructor(detected?: string, cause?: unknown) {
    super(
      'AUDIO_UNSUPPORTED',
      detected ? `unsupported input: ${detected}` : 'unrecognised input: not a known audio format',
      detected
        ? `${detected} cannot be transcribed; send ${ACCEPTED_FORMATS_TEXT}`
        : `this file is not in an audio format that can be transcribed; send ${ACCEPTED_FORMATS_TEXT}`,
      cause,
    );
    this.detected = detected;
  }
}

export class AudioCorruptError extends AudioError {
  readonly format: AudioFormat;

  /** `decoderOutput`: what the decoder printed, for the log only (it means nothing in chat). */
  constructor(format: AudioFormat, detail: string, decoderOutput?: string, cause?: unknown) {
    const label = FORMAT_LABELS[format];
    const said = decoderOutput ? `; the decoder printed: ${decoderOutput}` : '';
    super(
      'AUDIO_CORRUPT',
      `${label} decode failed: ${detail}${said}`,
      `the ${label} audio could not be decoded (${detail}); the file may be damaged or cut short`,
      cause,
    );
    this.format = format;
  }
}

export class AudioTooLongError extends AudioError {
  readonly maxSeconds: number;

  constructor(maxSeconds: number) {
    super(
      'AUDIO_TOO_LONG',
      `audio is longer than the limit of ${maxSeconds} s`,
      `the audio is longer than the limit of ${formatDuration(maxSeconds)}; send a shorter recording or split it`,
    );
    this.maxSeconds = maxSeconds;
  }
}

/** '90 s', '12 min', '1 h 30 min': a limit as a person says it. */
export function formatDuration(seconds: number): string {
  if (seconds < 120) return `${Math.round(seconds)} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}
