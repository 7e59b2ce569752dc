/**
 * Any audio file we take → 16 kHz mono PCM for Whisper. The bytes come from strangers (a
 * voice message, an uploaded file), so: sniff first and refuse what we do not decode; decode
 * in a worker thread with a deadline (see decode-worker.ts for why); every failure is an
 * AudioError, never a decoder's raw exception.
 */
import { Worker } from 'node:worker_threads';
import type { DecodeJob, DecodeReply } from './decode-worker.ts';
import {
  AudioCorruptError,
  type AudioError,
  AudioTooLongError,
  AudioUnsupportedError,
} from './errors.ts';
import { resample } from './resample.ts';
import { mp4DeclaredSeconds, sniffAudio } from './sniff.ts';
import { type AudioFormat, type Pcm, WHISPER_SAMPLE_RATE } from './types.ts';
import { readWav16 } from './wav.ts';
import { type WavForDecoder, wavForDecoder } from './wav-header.ts';

export interface DecodeOptions {
  /** Longest audio accepted, in seconds. Default DEFAULT_MAX_SECONDS (one hour). */
  maxSeconds?: number;
  /** Aborting terminates the decoder; the promise then rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** The decoder's wall-clock budget. Default 20 s + 30 ms per second of `maxSeconds`. */
  timeoutMs?: number;
}

export interface DecodedAudio {
  /** Mono, at WHISPER_SAMPLE_RATE. */
  pcm: Pcm;
  format: AudioFormat;
  /** The decoded length (of the source, before resampling). */
  durationMs: number;
  /** The source's sample rate (its first, if a chained stream changes rate). */
  sourceRate: number;
}

/** An hour of 16 kHz float samples is 230 MB: beyond that a caller should say so. */
export const DEFAULT_MAX_SECONDS = 3600;

const WORKER = new URL('./decode-worker.ts', import.meta.url);

export async function decodeAudio(
  bytes: Uint8Array,
  opts: DecodeOptions = {},
): Promise<DecodedAudio> {
  opts.signal?.throwIfAborted();
  const maxSeconds = opts.maxSeconds ?? DEFAULT_MAX_SECONDS;
  if (!(maxSeconds > 0 && Number.isFinite(maxSeconds))) {
    throw new RangeError(`maxSeconds must be a positive number (got ${maxSeconds})`);
  }
  const format = sniffAudio(bytes);
  if (format === 'wav') {
    const pcm = readWav16(bytes);
    if (pcm) return fromPcm(pcm, format, maxSeconds);
  }
  if (format === 'm4a' && (mp4DeclaredSeconds(bytes) ?? 0) > maxSeconds) {
    throw new AudioTooLongError(maxSeconds);
  }
  const timeoutMs = opts.timeoutMs ?? 20_000 + 30 * maxSeconds;
  // The worker gets its own copy (a Buffer's slice() would share, even a pooled ArrayBuffer):
  // of a WAV, a header of checked values and the data alone (wav-header.ts says why).
  const own = format === 'wav' ? joined(wavForDecoder(bytes)) : new Uint8Array(bytes);
  const job = { bytes: own, format, maxSeconds };
  const { reply, said } = await inWorker(job, timeoutMs, opts.signal);
  if (reply.type === 'error') throw toAudioError(reply, format, maxSeconds, said);
  return {
    pcm: { sampleRate: WHISPER_SAMPLE_RATE, samples: reply.samples },
    format,
    durationMs: reply.durationMs,
    sourceRate: reply.sourceRate,
  };
}

function joined({ header, data }: WavForDecoder): Uint8Array {
  const all = new Uint8Array(header.length + data.length);
  all.set(header);
  all.set(data, header.length);
  return all;
}

/** The fast path for plain 16-bit mono WAV: pure JS with bounded loops, no thread needed. */
function fromPcm(pcm: Pcm, format: AudioFormat, maxSeconds: number): DecodedAudio {
  const seconds = pcm.samples.length / pcm.sampleRate;
  if (seconds > maxSeconds) throw new AudioTooLongError(maxSeconds);
  if (pcm.samples.length === 0) throw new AudioCorruptError(format, 'it holds no samples');
  const samples =
    pcm.sampleRate === WHISPER_SAMPLE_RATE
      ? pcm.samples
      : resample(pcm.samples, pcm.sampleRate, WHISPER_SAMPLE_RATE);
  return {
    pcm: { sampleRate: WHISPER_SAMPLE_RATE, samples },
    format,
    durationMs: seconds * 1000,
    sourceRate: pcm.sampleRate,
  };
}

/**
 * A decoder thread that has loaded its modules (and compiled the Opus decoder) while nothing
 * waited for it: each decode still gets a thread of its own, but not its start-up time.
 */
let spare: Worker | undefined;

function startWorker(): Worker {
  const worker = new Worker(WORKER, {
    execArgv: [], // nothing of the parent's (loaders, inspector) is needed to decode
    stdout: true, // decoders print on bad input: kept out of the bot's own output
    stderr: true,
    resourceLimits: { maxOldGenerationSizeMb: 512 },
  });
  worker.unref(); // a spare never keeps its process alive
  const forget = () => {
    if (spare === worker) spare = undefined;
  };
  worker.once('exit', forget);
  // A spare that fails before it is taken (a module that will not load) must not take the
  // bot down with an unhandled 'error': it is just not used. A taken one has inWorker's.
  worker.on('error', forget);
  return worker;
}

function takeWorker(): Worker {
  const worker = spare ?? startWorker();
  spare = undefined;
  worker.ref();
  return worker;
}

/** `job.bytes` must be the job's own: their buffer is moved to the worker. */
function inWorker(job: DecodeJob, timeoutMs: number, signal?: AbortSignal): Promise<Outcome> {
  const worker = takeWorker();
  worker.postMessage(job, [job.bytes.buffer as ArrayBuffer]);
  const corrupt = (detail: string): DecodeReply => ({
    type: 'error',
    code: 'AUDIO_CORRUPT',
    detail,
  });
  return new Promise<Outcome>((resolve, reject) => {
    let said = '';
    const hear = (chunk: Buffer) => {
      if (said.length < 400) said += chunk.toString('utf8');
    };
    worker.stdout.on('data', hear);
    worker.stderr.on('data', hear);
    let settled = false;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      spare ??= startWorker();
      settle();
    };
    const settle = (reply: DecodeReply) =>
      finish(() => resolve({ reply, said: said.replace(/\s+/g, ' ').trim().slice(0, 300) }));
    const timer = setTimeout(
      () => settle(corrupt(`the decoder did not finish within ${Math.round(timeoutMs / 1000)} s`)),
      timeoutMs,
    );
    const onAbort = () => finish(() => reject(signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (msg: DecodeReply) => settle(checked(msg, corrupt)));
    worker.once('error', (err) => settle(corrupt(`the decoder crashed (${err.message})`)));
    worker.once('exit', (code) => settle(corrupt(`the decoder exited (code ${code})`)));
  });
}

/** The worker's reply, and what its decoders printed on the way (for the log). */
interface Outcome {
  reply: DecodeReply;
  said: string;
}

/** The worker ran a WASM decoder on hostile input: check its reply before trusting it. */
function checked(msg: DecodeReply, corrupt: (detail: string) => DecodeReply): DecodeReply {
  if (msg?.type === 'done' && msg.samples instanceof Float32Array && msg.samples.length > 0) {
    if (Number.isFinite(msg.durationMs) && Number.isInteger(msg.sourceRate)) return msg;
  }
  if (msg?.type === 'error' && typeof msg.detail === 'string') return msg;
  return corrupt('the decoder gave an unusable answer');
}

function toAudioError(
  reply: DecodeReply & { type: 'error' },
  format: AudioFormat,
  maxSeconds: number,
  said: string,
): AudioError {
  if (reply.code === 'AUDIO_TOO_LONG') return new AudioTooLongError(maxSeconds);
  if (reply.code === 'AUDIO_UNSUPPORTED') return new AudioUnsupportedError(reply.detail);
  return new AudioCorruptError(format, reply.detail, said || undefined);
}
