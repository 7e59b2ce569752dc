/**
 * The decoder thread (started by decode.ts). WASM decoders fed hostile bytes may spin, trap or
 * print; in a worker thread they do it where the caller can terminate them at a deadline,
 * where their console output is captured instead of reaching the bot's log, and without
 * blocking the bot's event loop for the seconds a long recording takes.
 *
 * Input: one DecodeJob message { bytes, format, maxSeconds }, sent when a decode needs the
 * thread (it may have waited, warmed up, since it started). Output: one DecodeReply message.
 */
import { parentPort } from 'node:worker_threads';
import { createOpusDecoder } from '@audio/decode-opus/core';
import { decodeChunked } from 'audio-decode';
import { AudioError, AudioTooLongError } from './errors.ts';
import { decodeOggOpus, OPUS_RATE } from './ogg-opus.ts';
import { createResampler, type Resampler } from './resample.ts';
import { type AudioFormat, FORMAT_LABELS, WHISPER_SAMPLE_RATE } from './types.ts';

export type DecodeReply =
  | { type: 'done'; samples: Float32Array; sourceRate: number; durationMs: number }
  | { type: 'error'; code: AudioError['code']; detail: string };

export interface DecodeJob {
  bytes: Uint8Array;
  format: AudioFormat;
  maxSeconds: number;
}

const DECODER = {
  'ogg-opus': 'opus',
  'ogg-vorbis': 'oga',
  mp3: 'mp3',
  wav: 'wav',
  flac: 'flac',
  m4a: 'm4a',
  aac: 'aac',
  webm: 'webm',
} as const;

/** Small pieces let the length limit stop a long file early and keep each decoded piece small. */
const CHUNK_BYTES = 64 * 1024;

async function run(job: DecodeJob): Promise<DecodeReply> {
  const out: Float32Array[] = [];
  let resampler: Resampler | undefined;
  let sourceRate = 0;
  let seconds = 0;
  const source = job.format === 'm4a' ? growingChunks(job.bytes) : fixedChunks(job.bytes);
  // Opus decodes straight to 16 kHz (see ogg-opus.ts); it is a 48 kHz source all the same.
  const pieces =
    job.format === 'ogg-opus'
      ? decodeOggOpus(source, WHISPER_SAMPLE_RATE)
      : decodeChunked(source, DECODER[job.format]);
  if (job.format === 'ogg-opus') sourceRate = OPUS_RATE;
  for await (const piece of pieces) {
    const rate = piece.sampleRate;
    if (!(Number.isInteger(rate) && rate >= 1000 && rate <= 768_000)) {
      return fail('AUDIO_CORRUPT', `the decoder reported a sample rate of ${rate}`);
    }
    const mono = downmix(piece.channelData);
    if (mono.length === 0) continue;
    // A chained stream may change rate: finish the old filter, start one for the new rate.
    if (resampler?.inRate !== rate) {
      if (resampler) out.push(resampler.flush());
      resampler =
        rate === WHISPER_SAMPLE_RATE ? undefined : createResampler(rate, WHISPER_SAMPLE_RATE);
      sourceRate ||= rate;
    }
    out.push(resampler ? resampler.push(mono) : mono);
    seconds += mono.length / rate;
    if (seconds > job.maxSeconds) throw new AudioTooLongError(job.maxSeconds);
  }
  if (resampler) out.push(resampler.flush());
  if (seconds === 0) return fail('AUDIO_CORRUPT', 'no sound could be decoded from it');
  return { type: 'done', samples: concat(out), sourceRate, durationMs: seconds * 1000 };
}

/** The mean of the channels; NaN (a decoder's garbage) becomes silence, overshoot is clipped. */
function downmix(channels: Float32Array[]): Float32Array {
  if (channels.length === 0) return new Float32Array(0);
  const n = Math.min(...channels.map((c) => c.length));
  const mono = new Float32Array(n);
  const scale = 1 / channels.length;
  for (const ch of channels) {
    for (let i = 0; i < n; i++) mono[i] = (mono[i] as number) + (ch[i] as number) * scale;
  }
  for (let i = 0; i < n; i++) {
    const s = mono[i] as number;
    mono[i] = s > 1 ? 1 : s < -1 ? -1 : Number.isNaN(s) ? 0 : s;
  }
  return mono;
}

async function* fixedChunks(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += CHUNK_BYTES) yield bytes.subarray(i, i + CHUNK_BYTES);
}

/**
 * The MP4 demuxer re-joins everything it has buffered on every call until it has seen the
 * `moov` box, which most encoders write last: doubling pieces keep that linear, not quadratic.
 */
async function* growingChunks(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  for (let i = 0, size = CHUNK_BYTES; i < bytes.length; i += size, size *= 2) {
    yield bytes.subarray(i, i + size);
  }
}

function concat(parts: Float32Array[]): Float32Array {
  const all = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return all;
}

function fail(code: AudioError['code'], detail: string): DecodeReply {
  return { type: 'error', code, detail };
}

/** A decoder's own complaint, as one short line. */
function describe(err: unknown, job: DecodeJob): DecodeReply {
  if (err instanceof AudioError) return fail(err.code, err.message);
  const text = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
  const short = text.length > 160 ? `${text.slice(0, 159)}…` : text || 'unknown decoder error';
  // Decoders say "unsupported" for codecs inside a container we take (WAV ADPCM variants...).
  return /unsupported|not support|no decoder/i.test(short)
    ? fail(
        'AUDIO_UNSUPPORTED',
        `${FORMAT_LABELS[job.format]} audio in an encoding that is not decoded here (${short})`,
      )
    : fail('AUDIO_CORRUPT', short);
}

if (parentPort) {
  const port = parentPort;
  // Compiled while the thread waits for its job: the Opus decoder (voice messages). The
  // compiled module is cached, so an Opus job awaits it there; other formats need not.
  void createOpusDecoder().then(
    (d) => d.free(),
    () => {},
  );
  port.once('message', (job: DecodeJob) => {
    void run(job).then(
      (reply) =>
        port.postMessage(reply, reply.type === 'done' ? [reply.samples.buffer as ArrayBuffer] : []),
      (err: unknown) => port.postMessage(describe(err, job)),
    );
  });
}
