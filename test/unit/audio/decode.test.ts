import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AudioError,
  type AudioFormat,
  decodeAudio,
  resample,
  WHISPER_SAMPLE_RATE,
} from '../../../src/audio/index.ts';
import { describeForChat, MeshError } from '../../../src/errors/index.ts';
import {
  alignment,
  type FixtureKind,
  makeSpeech,
  noiseBytes,
  rms,
  type Speech,
} from './fixtures.ts';

let speech: Speech;
/** The source at 16 kHz: what every decode should look like. */
let reference: Float32Array;

beforeAll(async () => {
  speech = await makeSpeech();
  reference = resample(speech.source, speech.sourceRate, WHISPER_SAMPLE_RATE);
});
afterAll(() => speech?.cleanup());

/** The decoder's typed error for `bytes`, which must fail. */
async function failure(bytes: Uint8Array, opts = {}): Promise<AudioError> {
  const err = await decodeAudio(bytes, opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AudioError);
  return err as AudioError;
}

/**
 * Kind, format, the source rate the decoder reports (undefined: not checked) and how late the
 * speech may come out, in ms: raw ADTS has no edit list to say how much encoder delay to trim.
 */
const CASES: [FixtureKind, AudioFormat, number | undefined, number?][] = [
  ['ogg-opus', 'ogg-opus', 48_000],
  ['mp3', 'mp3', 22_050],
  ['wav', 'wav', 22_050],
  ['wav-44k-stereo', 'wav', 44_100],
  ['flac', 'flac', 22_050],
  ['m4a', 'm4a', 22_050],
  // Raw ADTS at 22.05 kHz signals SBR implicitly; the decoder may output at twice the rate.
  ['aac', 'aac', undefined, 50],
  ['ogg-vorbis', 'ogg-vorbis', 22_050],
  ['webm', 'webm', 48_000],
];

describe('a voice message or audio file becomes 16 kHz mono speech', () => {
  it.each(CASES)('%s: right format, length and sound', async (kind, format, sourceRate, late) => {
    const { pcm, durationMs, ...rest } = await decodeAudio(speech.files[kind]);
    expect(rest).toEqual({ format, sourceRate: sourceRate ?? rest.sourceRate });
    expect(pcm.sampleRate).toBe(16_000);
    expect(Math.abs(durationMs - speech.sourceMs)).toBeLessThan(50);
    expect(Math.abs(pcm.samples.length / 16 - durationMs)).toBeLessThan(1);
    expect(rms(pcm.samples)).toBeGreaterThan(0.02);
    // The same words at the same times: the loudness envelopes line up, to the millisecond.
    const { lagMs, r } = alignment(pcm.samples, reference);
    expect(r).toBeGreaterThan(0.95);
    expect(lagMs).toBeGreaterThanOrEqual(-1);
    expect(lagMs).toBeLessThanOrEqual(late ?? 1);
  });

  it('downmixes stereo to mono at the same loudness', async () => {
    const { pcm } = await decodeAudio(speech.files['wav-44k-stereo']);
    expect(rms(pcm.samples) / rms(reference)).toBeCloseTo(1, 1);
  });

  it('leaves the caller’s bytes usable', async () => {
    const bytes = speech.files['ogg-opus'];
    const before = bytes.length;
    await decodeAudio(bytes);
    expect(bytes.length).toBe(before);
    expect((await decodeAudio(bytes)).format).toBe('ogg-opus');
  });

  it('decodes what there is of a truncated upload', async () => {
    // Three quarters of the bytes: opusenc's Ogg pages hold up to a second each, and the
    // page cut in two is lost, so Opus keeps about half of this source, MP3 three quarters.
    for (const kind of ['ogg-opus', 'mp3'] as const) {
      const whole = speech.files[kind];
      const { durationMs } = await decodeAudio(whole.subarray(0, (whole.length * 3) >> 2));
      expect(durationMs, kind).toBeGreaterThan(speech.sourceMs * 0.4);
      expect(durationMs, kind).toBeLessThan(speech.sourceMs * 0.8);
    }
  });
});

describe('refusals are typed, quick and fit for chat', () => {
  it('refuses audio longer than maxSeconds, in every path', async () => {
    for (const kind of ['ogg-opus', 'wav', 'wav-44k-stereo', 'm4a'] as const) {
      const err = await failure(speech.files[kind], { maxSeconds: 2 });
      expect(err.code).toBe('AUDIO_TOO_LONG');
      expect(err.retryable).toBe(false);
      expect(err.userMessage).toMatch(/longer than the limit of 2 s/);
    }
  });

  it('refuses what is not audio and says what it takes', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    const err = await failure(png);
    expect(err.code).toBe('AUDIO_UNSUPPORTED');
    expect(err).toBeInstanceOf(MeshError);
    expect(describeForChat(err)).toMatch(
      /a PNG image cannot be transcribed; send .*Ogg\/Opus.*MP3/,
    );
    expect((await failure(noiseBytes(100_000))).code).toBe('AUDIO_UNSUPPORTED');
    expect((await failure(new Uint8Array(0))).code).toBe('AUDIO_UNSUPPORTED');
  });

  it('calls a header with nothing decodable behind it corrupt', async () => {
    const opus = speech.files['ogg-opus'];
    const err = await failure(opus.subarray(0, 200));
    expect(err.code).toBe('AUDIO_CORRUPT');
    expect(err.userMessage).toMatch(/^the Ogg\/Opus audio could not be decoded/);
    const garbage = opus.slice();
    garbage.set(noiseBytes(garbage.length - 64, 7), 64);
    expect((await failure(garbage)).code).toBe('AUDIO_CORRUPT');
  });

  it('never hangs or throws raw on a valid header with a garbage body', async () => {
    for (const [kind] of CASES) {
      for (const keep of [16, 100, 1000]) {
        const bytes = speech.files[kind].slice();
        bytes.set(noiseBytes(bytes.length - keep, keep), keep);
        const started = Date.now();
        const outcome = await decodeAudio(bytes).then(
          (r) => r.pcm.sampleRate,
          (e: unknown) => (e instanceof AudioError ? e.code : e),
        );
        // Some decoders resync and salvage noise; either way the answer is typed and quick.
        expect([16_000, 'AUDIO_CORRUPT', 'AUDIO_UNSUPPORTED'], `${kind}/${keep}`).toContain(
          outcome,
        );
        expect(Date.now() - started).toBeLessThan(5_000);
      }
    }
  });

  it('gives up at its deadline with AUDIO_CORRUPT', async () => {
    const err = await failure(speech.files['ogg-opus'], { timeoutMs: 1 });
    expect(err.code).toBe('AUDIO_CORRUPT');
    expect(err.message).toMatch(/did not finish/);
  });

  it('stops when the caller aborts, with the caller’s reason', async () => {
    const reason = new Error('user cancelled');
    await expect(decodeAudio(speech.files.mp3, { signal: AbortSignal.abort(reason) })).rejects.toBe(
      reason,
    );
    const ac = new AbortController();
    const pending = decodeAudio(speech.files['ogg-opus'], { signal: ac.signal });
    setTimeout(() => ac.abort(reason), 10);
    await expect(pending).rejects.toBe(reason);
  });
});
