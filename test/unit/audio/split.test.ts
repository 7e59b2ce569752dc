import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Chunk,
  chunkOffsetMs,
  type Pcm,
  planChunks,
  sliceChunk,
} from '../../../src/audio/index.ts';

const RATE = 16_000;

/**
 * Speech-like sound: noise in 4 Hz "syllables", whose troughs dip to near zero for a frame or
 * two, with pauses of low room noise at `pauses` ([start, end] seconds).
 */
function talk(seconds: number, pauses: [number, number][], seed = 1): Pcm {
  const samples = new Float32Array(seconds * RATE);
  let s = seed;
  for (let i = 0; i < samples.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const noise = s / 2 ** 31 - 1;
    const t = i / RATE;
    const paused = pauses.some(([a, b]) => t >= a && t < b);
    samples[i] = paused ? 0.003 * noise : 0.3 * Math.abs(Math.sin(Math.PI * 4 * t)) * noise;
  }
  return { sampleRate: RATE, samples };
}

function expectExactCover(chunks: Chunk[], total: number) {
  expect(chunks[0]?.startSample).toBe(0);
  expect(chunks.at(-1)?.endSample).toBe(total);
  chunks.forEach((c, i) => {
    expect(c.endSample).toBeGreaterThanOrEqual(c.startSample);
    if (i > 0) expect(c.startSample).toBe(chunks[i - 1]?.endSample);
  });
}

const seconds = (c: Chunk) => c.endSample / RATE;

describe('long audio is cut into chunks at pauses', () => {
  it('puts each cut inside the pause before the nominal boundary', () => {
    const pauses: [number, number][] = [
      [27.0, 27.3],
      [56.5, 56.8],
      [85.0, 85.3],
    ];
    const pcm = talk(95, pauses);
    const chunks = planChunks(pcm, { chunkSeconds: 30, searchSeconds: 5 });
    expect(chunks).toHaveLength(4);
    expectExactCover(chunks, pcm.samples.length);
    chunks.slice(0, 3).forEach((c, i) => {
      const [a, b] = pauses[i] as [number, number];
      expect(seconds(c)).toBeGreaterThan(a);
      expect(seconds(c)).toBeLessThan(b);
    });
  });

  it('prefers a real pause to a quieter but momentary dip between syllables', () => {
    const pcm = talk(70, [[26.0, 26.3]]);
    // 30 ms of digital silence at 28.5 s: quieter than the pause, but inside a word.
    pcm.samples.fill(0, 28.5 * RATE, 28.53 * RATE);
    const [first] = planChunks(pcm, { chunkSeconds: 30, searchSeconds: 5 });
    expect(seconds(first as Chunk)).toBeGreaterThan(26.0);
    expect(seconds(first as Chunk)).toBeLessThan(26.3);
  });

  it('cuts in the middle of a long digital silence', () => {
    const pcm = talk(70, []);
    pcm.samples.fill(0, 26 * RATE, 29 * RATE);
    const [first] = planChunks(pcm, { chunkSeconds: 30, searchSeconds: 5 });
    expect(seconds(first as Chunk)).toBeCloseTo(27.5, 1);
  });

  it('keeps audio up to 1.25 chunks whole, and an empty recording as one empty chunk', () => {
    expect(planChunks(talk(37, []), { chunkSeconds: 30 })).toEqual([
      { startSample: 0, endSample: 37 * RATE },
    ]);
    expect(
      planChunks({ sampleRate: RATE, samples: new Float32Array(0) }, { chunkSeconds: 30 }),
    ).toEqual([{ startSample: 0, endSample: 0 }]);
    expect(() => planChunks(talk(1, []), { chunkSeconds: 0 })).toThrow(RangeError);
  });

  it('always covers the audio exactly, in order, with chunks near their nominal length', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 400_000 }),
        fc.double({ min: 0.5, max: 5, noNaN: true }),
        fc.double({ min: 0, max: 3, noNaN: true }),
        fc.integer({ min: 1, max: 1000 }),
        (length, chunkSeconds, searchSeconds, seed) => {
          const samples = new Float32Array(length);
          for (let i = 0; i < length; i++) samples[i] = Math.sin(i * seed) * ((i * seed) % 7) * 0.1;
          const pcm = { sampleRate: RATE, samples };
          const chunks = planChunks(pcm, { chunkSeconds, searchSeconds });
          expectExactCover(chunks, length);
          const nominal = chunkSeconds * RATE;
          for (const c of chunks.slice(0, -1)) {
            expect(c.endSample - c.startSample).toBeLessThanOrEqual(Math.round(nominal));
            expect(c.endSample - c.startSample).toBeGreaterThanOrEqual(Math.floor(nominal / 2));
          }
          const last = chunks.at(-1) as Chunk;
          expect(last.endSample - last.startSample).toBeLessThanOrEqual(nominal * 1.25 + 1);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('cuts an hour into at most maxChunks, though every cut moves before its boundary', () => {
    // Digital silence: every frame ties, so each cut goes to the middle of its search window,
    // 2.5 s early. Nominal 36 s parts (3600 s / 100) made 108 chunks so; a plan holds 100.
    const rate = 1000;
    const pcm = { sampleRate: rate, samples: new Float32Array(3600 * rate) };
    const chunks = planChunks(pcm, { chunkSeconds: 30, maxChunks: 100 });
    expectExactCover(chunks, pcm.samples.length);
    expect(chunks.length).toBeLessThanOrEqual(100);
    // Longer parts, not one long tail: none is more than the nominal 36 s plus the window.
    for (const c of chunks)
      expect((c.endSample - c.startSample) / rate).toBeLessThanOrEqual(41 * 1.25);
    // Short audio keeps its nominal chunk length.
    const short = planChunks(talk(95, []), { chunkSeconds: 30, maxChunks: 100 });
    expect(short.length).toBe(planChunks(talk(95, []), { chunkSeconds: 30 }).length);
    expect(() => planChunks(talk(1, []), { chunkSeconds: 30, maxChunks: 0 })).toThrow(RangeError);
  });

  it('never makes more than maxChunks, whatever the audio and its quiet spots', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200_000 }),
        fc.double({ min: 0.2, max: 3, noNaN: true }),
        fc.double({ min: 0, max: 2, noNaN: true }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 1000 }),
        (length, chunkSeconds, searchSeconds, maxChunks, seed) => {
          const samples = new Float32Array(length);
          for (let i = 0; i < length; i++) samples[i] = Math.sin(i * seed) * ((i * seed) % 7) * 0.1;
          const pcm = { sampleRate: RATE, samples };
          const chunks = planChunks(pcm, { chunkSeconds, searchSeconds, maxChunks });
          expectExactCover(chunks, length);
          expect(chunks.length).toBeLessThanOrEqual(maxChunks);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('slices without copying and knows each chunk’s offset', () => {
    const pcm = talk(80, []);
    const chunks = planChunks(pcm, { chunkSeconds: 30 });
    const second = chunks[1] as Chunk;
    const slice = sliceChunk(pcm, second);
    expect(slice.sampleRate).toBe(RATE);
    expect(slice.samples.length).toBe(second.endSample - second.startSample);
    expect(slice.samples.buffer).toBe(pcm.samples.buffer);
    expect(chunkOffsetMs(pcm, second)).toBe((second.startSample / RATE) * 1000);
  });
});
