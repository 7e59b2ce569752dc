/**
 * The audio layer: bytes from a room → 16 kHz mono PCM → chunks for Whisper → one transcript
 * as text, SRT or WebVTT.
 */
export {
  DEFAULT_MAX_SECONDS,
  type DecodedAudio,
  type DecodeOptions,
  decodeAudio,
} from './decode.ts';
export {
  ACCEPTED_FORMATS_TEXT,
  AudioCorruptError,
  AudioError,
  type AudioErrorCode,
  AudioTooLongError,
  AudioUnsupportedError,
  formatDuration,
} from './errors.ts';
export { createResampler, type Resampler, resample } from './resample.ts';
export { mp4DeclaredSeconds, type SniffResult, sniff, sniffAudio } from './sniff.ts';
export { type Chunk, chunkOffsetMs, type PlanOptions, planChunks, sliceChunk } from './split.ts';
export { formatTimestamp, joinTranscripts, toSrt, toVtt, transcriptText } from './subtitles.ts';
export {
  AUDIO_FORMATS,
  type AudioFormat,
  FORMAT_LABELS,
  type Pcm,
  type Segment,
  WHISPER_SAMPLE_RATE,
} from './types.ts';
export { encodeWav, readWav16 } from './wav.ts';
