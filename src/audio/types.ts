/**
 * The audio layer's data: what a voice message or an uploaded file is decoded into, and what a
 * transcript is made of. Everything downstream (Whisper, the splitter, subtitles) speaks these.
 */

/**
 * A container/codec pair we can decode. Named after what a person would call the file: an
 * Element or WhatsApp voice message is 'ogg-opus', an iPhone memo is 'm4a', a Chrome
 * MediaRecorder clip is 'webm' (Matroska files share the name: same container, same decoder).
 */
export type AudioFormat =
  | 'ogg-opus'
  | 'ogg-vorbis'
  | 'mp3'
  | 'wav'
  | 'flac'
  | 'm4a'
  | 'aac'
  | 'webm';

/** Every AudioFormat, in the order a user message lists them. */
export const AUDIO_FORMATS: readonly AudioFormat[] = [
  'ogg-opus',
  'mp3',
  'm4a',
  'aac',
  'wav',
  'flac',
  'ogg-vorbis',
  'webm',
];

/** What a person calls each format, for messages. */
export const FORMAT_LABELS: Readonly<Record<AudioFormat, string>> = {
  'ogg-opus': 'Ogg/Opus',
  'ogg-vorbis': 'Ogg/Vorbis',
  mp3: 'MP3',
  wav: 'WAV',
  flac: 'FLAC',
  m4a: 'M4A/MP4',
  aac: 'AAC',
  webm: 'WebM',
};

/** Mono PCM: samples in [-1, 1] at `sampleRate` Hz. */
export interface Pcm {
  sampleRate: number;
  samples: Float32Array;
}

/** One timed piece of a transcript; times in milliseconds from the start of the audio. */
export interface Segment {
  startMs: number;
  endMs: number;
  text: string;
}

/** Whisper's input rate: every decode ends at this rate. */
export const WHISPER_SAMPLE_RATE = 16_000;
