/**
 * Tensor contents as `Fill` functions, so the writer can stream a tensor of any size in
 * chunks. Random values come from a seeded PRNG: the same seed gives the same bytes, so a
 * generated model's sha256 is stable and can key a cache.
 */
import { mulberry32 } from '../../../src/verifier/simulate.ts';
import type { Fill } from './ggml-writer.ts';

/** mulberry32 (the Verifier's simulation uses it too): tiny, fast, good enough for weights nobody reads. */
export const prng = mulberry32;

export const constant =
  (value: number): Fill =>
  (out) => {
    out.fill(value);
  };

/**
 * Uniform values with standard deviation `std`. The writer fills chunks in order, so drawing
 * sequentially from one generator per tensor is deterministic.
 */
export function uniform(seed: number, std: number): Fill {
  const next = prng(seed);
  const a = std * Math.sqrt(3);
  return (out) => {
    for (let i = 0; i < out.length; i++) out[i] = (2 * next() - 1) * a;
  };
}

/** A dense tensor computed up front (small ones: positional embeddings, filters). */
export const dense =
  (data: Float32Array): Fill =>
  (out, start) => {
    out.set(data.subarray(start, start + out.length));
  };

/** A [rows][width] matrix that is zero except for the given rows (a sparse token embedding). */
export function sparseRows(width: number, rows: ReadonlyMap<number, Float32Array>): Fill {
  return (out, start) => {
    out.fill(0);
    const first = Math.floor(start / width);
    const last = Math.floor((start + out.length - 1) / width);
    for (let r = first; r <= last; r++) {
      const row = rows.get(r);
      if (!row) continue;
      const from = Math.max(start, r * width);
      const to = Math.min(start + out.length, (r + 1) * width);
      out.set(row.subarray(from - r * width, to - r * width), from - start);
    }
  };
}

/** Whisper's encoder positional embedding: fixed sinusoids, [nCtx][d] (sin half, cos half). */
export function sinusoids(nCtx: number, d: number): Float32Array {
  const data = new Float32Array(nCtx * d);
  const half = d / 2;
  const step = Math.log(10_000) / (half - 1);
  for (let t = 0; t < nCtx; t++) {
    for (let i = 0; i < half; i++) {
      const angle = t * Math.exp(-step * i);
      data[t * d + i] = Math.sin(angle);
      data[t * d + half + i] = Math.cos(angle);
    }
  }
  return data;
}
