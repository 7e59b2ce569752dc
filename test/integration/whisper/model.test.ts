/**
 * Generated Whisper models in the real whisper.cpp (through smart-whisper): a scripted model
 * reads any speech as its phrase, timestamps and all, and a random model of the real tiny
 * shape runs the whole pipeline. Tests of the transcription engine stand on these two facts.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Whisper } from 'smart-whisper';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prng } from '../../support/whisper-model/fills.ts';
import { makeRandomModel, makeScriptedModel } from '../../support/whisper-model/models.ts';

const run = promisify(execFile);
const SAMPLE_RATE = 16_000;
const PHRASE = 'hello mesh';
const PARAMS = {
  language: 'en',
  temperature: 0,
  temperature_inc: 0,
  n_threads: 2,
  format: 'detail',
} as const;

/** `seconds` of audio, zero-padded or cut. */
const padOrCut = (samples: Float32Array, seconds: number): Float32Array => {
  const out = new Float32Array(seconds * SAMPLE_RATE);
  out.set(samples.subarray(0, out.length));
  return out;
};

/** A tone under seeded noise: input for machines without espeak-ng. */
function synthesized(seconds: number): Float32Array {
  const next = prng(7);
  return Float32Array.from({ length: seconds * SAMPLE_RATE }, (_, i) => {
    const tone = 0.3 * Math.sin((2 * Math.PI * 220 * i) / SAMPLE_RATE);
    return tone + 0.05 * (2 * next() - 1);
  });
}

/** Real speech from espeak-ng, resampled by sox to 16 kHz mono float; a tone if either is missing. */
async function speech(dir: string, text: string, seconds: number): Promise<Float32Array> {
  const wav = join(dir, 'speech.wav');
  const raw = join(dir, 'speech.f32');
  try {
    await run('espeak-ng', ['-w', wav, text]);
    await run('sox', [
      wav,
      '-r',
      `${SAMPLE_RATE}`,
      '-c',
      '1',
      '-e',
      'floating-point',
      '-b',
      '32',
      '-L',
      '-t',
      'raw',
      raw,
    ]);
  } catch {
    return synthesized(seconds);
  }
  const bytes = new Uint8Array(await readFile(raw)); // a copy, so the floats are aligned
  return padOrCut(new Float32Array(bytes.buffer, 0, bytes.length >> 2), seconds);
}

/** The transcript of `audio`, loading the model fresh and freeing it afterwards. */
async function transcribe(
  model: string,
  audio: Float32Array,
  params: Record<string, unknown> = {},
) {
  const whisper = new Whisper(model, { gpu: false });
  try {
    const task = await whisper.transcribe(audio, { ...PARAMS, ...params });
    return await task.result;
  } finally {
    await whisper.free();
  }
}

describe('generated whisper models', () => {
  let dir: string;
  let audio: Float32Array;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshbot-whisper-'));
    audio = await speech(dir, 'The quick brown fox jumps over the lazy dog.', 3);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads any speech as the scripted phrase, in one timestamped segment', async () => {
    const model = await makeScriptedModel({ path: join(dir, 'scripted.bin'), phrase: PHRASE });
    expect(model.bytes).toBeLessThan(10_000_000);

    const segments = await transcribe(model.path, audio);

    expect(segments.map((s) => s.text.trim()).join(' ')).toBe(PHRASE);
    expect(segments).toHaveLength(1);
    const [segment] = segments;
    expect(segment?.from).toBe(0);
    expect(segment?.lang).toBe('en');
    // The decoder really emitted timestamps around the text: <|0.00|> first, <|30.00|> last.
    const ids = segment?.tokens.map((t) => t.id) ?? [];
    expect(ids[0]).toBe(50_363);
    expect(ids.at(-1)).toBe(50_363 + 1500);
    expect(segment?.confidence).toBeGreaterThan(0.99);
  });

  it('gives the same phrase for noise, greedily, and for the same options the same file', async () => {
    const a = await makeScriptedModel({
      path: join(dir, 'a.bin'),
      phrase: PHRASE,
      multilingual: true,
    });
    const b = await makeScriptedModel({
      path: join(dir, 'b.bin'),
      phrase: PHRASE,
      multilingual: true,
    });
    expect(b.sha256).toBe(a.sha256);

    const segments = await transcribe(a.path, synthesized(3), { strategy: 0, language: 'auto' });

    expect(segments.map((s) => s.text.trim()).join(' ')).toBe(PHRASE);
    expect(segments[0]?.lang).toBe('en');
  });

  it('loads a random model of the real tiny shape and transcribes without error', async () => {
    const model = await makeRandomModel({ path: join(dir, 'tiny.bin'), size: 'tiny', seed: 1 });
    expect(model.bytes).toBeGreaterThan(70_000_000);

    const segments = await transcribe(model.path, audio);

    // Its text is noise; what matters is that decoding ends and yields well-formed segments.
    expect(Array.isArray(segments)).toBe(true);
    for (const s of segments) expect(typeof s.text).toBe('string');
  });
});
