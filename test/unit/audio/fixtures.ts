/**
 * Audio fixtures made on the fly, never committed: espeak-ng speaks, then sox, ffmpeg and opusenc
 * turn the speech into every format a room may send (scripts/audio/install.sh installs them).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readWav16 } from '../../../src/audio/wav.ts';

const run = promisify(execFile);

export type FixtureKind =
  | 'wav' // espeak-ng's own: 22.05 kHz mono 16-bit
  | 'wav-44k-stereo'
  | 'ogg-opus' // 48 kHz mono Opus at 24 kbit/s in Ogg, as Element records voice messages
  | 'mp3'
  | 'flac'
  | 'm4a'
  | 'aac' // raw ADTS
  | 'ogg-vorbis'
  | 'webm';

export interface Speech {
  dir: string;
  /** The length of the spoken source, from its sample count. */
  sourceMs: number;
  /** The source's samples (22.05 kHz mono). */
  source: Float32Array;
  sourceRate: number;
  files: Record<FixtureKind, Uint8Array>;
  cleanup(): Promise<void>;
}

const MAKE: Record<Exclude<FixtureKind, 'wav'>, (src: string, out: string) => string[][]> = {
  'wav-44k-stereo': (src, out) => [['sox', src, '-r', '44100', '-c', '2', out]],
  'ogg-opus': (src, out) => [
    ['sox', src, '-r', '48000', `${out}.48k.wav`],
    ['opusenc', '--quiet', '--bitrate', '24', `${out}.48k.wav`, out],
  ],
  mp3: (src, out) => [ffmpeg(src, out, '-c:a', 'libmp3lame', '-b:a', '64k')],
  flac: (src, out) => [['sox', src, out]],
  m4a: (src, out) => [ffmpeg(src, out, '-c:a', 'aac', '-b:a', '64k')],
  aac: (src, out) => [ffmpeg(src, out, '-c:a', 'aac', '-b:a', '64k', '-f', 'adts')],
  'ogg-vorbis': (src, out) => [ffmpeg(src, out, '-c:a', 'libvorbis')],
  webm: (src, out) => [ffmpeg(src, out, '-c:a', 'libopus')],
};

const EXT: Record<FixtureKind, string> = {
  wav: 'wav',
  'wav-44k-stereo': 'wav',
  'ogg-opus': 'opus',
  mp3: 'mp3',
  flac: 'flac',
  m4a: 'm4a',
  aac: 'aac',
  'ogg-vorbis': 'ogg',
  webm: 'webm',
};

function ffmpeg(src: string, out: string, ...args: string[]): string[] {
  return ['ffmpeg', '-loglevel', 'error', '-y', '-i', src, ...args, out];
}

export const SPOKEN = 'Hello from the mesh. This voice message will be transcribed by Whisper.';

/** `text` spoken by espeak-ng, in every FixtureKind. */
export async function makeSpeech(text = SPOKEN): Promise<Speech> {
  const dir = await mkdtemp(join(tmpdir(), 'meshbot-audio-'));
  const src = join(dir, 'speech.wav');
  await run('espeak-ng', ['-w', src, text]);
  const files = { wav: new Uint8Array(await readFile(src)) } as Record<FixtureKind, Uint8Array>;
  // One conversion at a time: the machine has two cores and the tests run beside others.
  for (const [kind, steps] of Object.entries(MAKE) as [
    Exclude<FixtureKind, 'wav'>,
    typeof MAKE.mp3,
  ][]) {
    const out = join(dir, `${kind}.${EXT[kind]}`);
    for (const [cmd, ...args] of steps(src, out)) await run(cmd as string, args);
    files[kind] = new Uint8Array(await readFile(out));
  }
  const pcm = readWav16(files.wav);
  if (!pcm) throw new Error('espeak-ng did not write a 16-bit mono WAV');
  return {
    dir,
    files,
    source: pcm.samples,
    sourceRate: pcm.sampleRate,
    sourceMs: (pcm.samples.length / pcm.sampleRate) * 1000,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** RMS of `x` over `frame`-sample frames: the loudness envelope. */
export function envelope(x: Float32Array, frame: number): Float64Array {
  const out = new Float64Array(Math.floor(x.length / frame));
  for (let f = 0; f < out.length; f++) {
    let sum = 0;
    for (let i = f * frame; i < (f + 1) * frame; i++) sum += (x[i] as number) ** 2;
    out[f] = Math.sqrt(sum / frame);
  }
  return out;
}

/** Pearson correlation of the common prefix of `a` and `b`. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] as number;
    mb += b[i] as number;
  }
  ma /= n;
  mb /= n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] as number) - ma;
    const db = (b[i] as number) - mb;
    ab += da * db;
    aa += da * da;
    bb += db * db;
  }
  return ab / Math.sqrt(aa * bb);
}

/**
 * How `x` lines up with `ref` (both 16 kHz): the delay of `x` in 1 ms steps within ±maxMs, and
 * the correlation of their loudness envelopes (20 ms frames) at that delay.
 */
export function alignment(x: Float32Array, ref: Float32Array, maxMs = 60) {
  const refEnvelope = envelope(ref, 320);
  let best = { lagMs: 0, r: -1 };
  for (let lagMs = -maxMs; lagMs <= maxMs; lagMs++) {
    const lag = lagMs * 16;
    const r =
      lag >= 0
        ? correlation(envelope(x.subarray(lag), 320), refEnvelope)
        : correlation(envelope(x, 320), envelope(ref.subarray(-lag), 320));
    if (r > best.r) best = { lagMs, r };
  }
  return best;
}

export function rms(x: Float32Array): number {
  let sum = 0;
  for (const v of x) sum += v * v;
  return Math.sqrt(sum / Math.max(1, x.length));
}

/** Deterministic pseudo-random bytes (tests must fail the same way twice). */
export function noiseBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}
