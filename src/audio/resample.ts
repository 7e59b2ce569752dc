/**
 * Sample-rate conversion: a polyphase windowed-sinc (Kaiser) resampler, streaming.
 *
 * Why our own: the registry's one well-kept candidate, @alexanderolsen/libsamplerate-js 2.1.2
 * (libsamplerate in WASM), measured side by side on 2 min of 48 kHz audio, took 1-2.7x as long
 * at SRC_SINC_FASTEST (similar alias rejection), 2.5-5x at MEDIUM and 9-15x at BEST; its
 * one-shot API drops the filter's tail (19-143 samples per call, so durations come out short);
 * and it is a 2 MB UMD bundle. The pure-JS ones are a single 1.0.0 release (wave-resampler)
 * or take 16-bit integer PCM only (@purinton/resampler).
 * The design follows ffmpeg's default swresample (what openai-whisper resamples with): a
 * Kaiser-windowed sinc spanning 32 zero crossings, here cut off at 0.9 x the output Nyquist:
 * flat to 6 kHz, -3 dB at 7 kHz, and a 10 kHz tone comes out > 90 dB down instead of folding
 * onto 6 kHz.
 */

/** Cutoff as a fraction of the lower Nyquist frequency. */
const ROLLOFF = 0.9;
/** Zero crossings of the sinc on each side of the centre, in output periods. */
const ZERO_CROSSINGS = 16;
/** Kaiser beta: ~80 dB stopband for this length. */
const BETA = 8;
/** Rates whose ratio needs more phases than this get their phase rounded (error < 1/2048). */
const MAX_PHASES = 1024;

export interface Resampler {
  readonly inRate: number;
  readonly outRate: number;
  /** Takes the next input samples; returns the output they complete. */
  push(input: Float32Array): Float32Array;
  /** Ends the stream: returns the rest, so that the total is ceil(inputs x outRate / inRate). */
  flush(): Float32Array;
}

/** One-shot conversion of a whole signal. */
export function resample(samples: Float32Array, inRate: number, outRate: number): Float32Array {
  if (inRate === outRate) return samples.slice();
  const r = createResampler(inRate, outRate);
  const head = r.push(samples);
  const tail = r.flush();
  const out = new Float32Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

export function createResampler(inRate: number, outRate: number): Resampler {
  if (!(Number.isInteger(inRate) && Number.isInteger(outRate) && inRate > 0 && outRate > 0)) {
    throw new RangeError(`sample rates must be positive integers (got ${inRate} -> ${outRate})`);
  }
  const g = gcd(inRate, outRate);
  const up = outRate / g; // output k sits at input position k * down / up
  const down = inRate / g;
  const phases = Math.min(up, MAX_PHASES);
  const { table, half } = kernelTable(inRate, outRate, phases);
  const taps = 2 * half;

  // Input samples from absolute index `base` on; indices below 0 are zeros (the pre-roll).
  let buf = new Float32Array(4096);
  let len = half - 1;
  let base = -(half - 1);
  let consumed = 0; // input samples pushed
  let k = 0; // next output index

  const append = (input: Float32Array) => {
    // Drop what no later output reads: everything before output k's first tap.
    const keep = Math.min(len, Math.floor((k * down) / up) - half + 1 - base);
    if (keep > 0) {
      buf.copyWithin(0, keep, len);
      len -= keep;
      base += keep;
    }
    if (len + input.length > buf.length) {
      const bigger = new Float32Array(Math.max(buf.length * 2, len + input.length));
      bigger.set(buf.subarray(0, len));
      buf = bigger;
    }
    buf.set(input, len);
    len += input.length;
  };

  const run = (limit: number): Float32Array => {
    // Output k needs inputs up to floor(k * down / up) + half, which must be below `end`.
    const end = base + len;
    let count = Math.ceil(((end - half) * up) / down) - k;
    count = Math.max(0, Math.min(count, limit - k));
    const out = new Float32Array(count);
    const b = buf; // locals: V8 keeps them in registers, closure slots it reloads per tap
    const tbl = table;
    for (let i = 0; i < count; i++, k++) {
      const pos = k * down;
      const n = Math.floor(pos / up);
      let phase = pos - n * up;
      let start = n - half + 1 - base;
      if (phases !== up) {
        phase = Math.round((phase * phases) / up);
        if (phase === phases) {
          phase = 0;
          start++;
        }
      }
      const off = phase * taps;
      out[i] = dot(b, start, tbl, off, taps);
    }
    return out;
  };

  return {
    inRate,
    outRate,
    push(input) {
      consumed += input.length;
      append(input);
      return run(Number.POSITIVE_INFINITY);
    },
    flush() {
      append(new Float32Array(half + 1)); // the post-roll: zeros past the end
      return run(Math.ceil((consumed * up) / down));
    },
  };
}

/** The inner product, four lanes at a time: a third faster in V8 than one accumulator. */
function dot(x: Float32Array, xo: number, h: Float32Array, ho: number, n: number): number {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  let j = 0;
  for (; j + 3 < n; j += 4) {
    a0 += (x[xo + j] as number) * (h[ho + j] as number);
    a1 += (x[xo + j + 1] as number) * (h[ho + j + 1] as number);
    a2 += (x[xo + j + 2] as number) * (h[ho + j + 2] as number);
    a3 += (x[xo + j + 3] as number) * (h[ho + j + 3] as number);
  }
  for (; j < n; j++) a0 += (x[xo + j] as number) * (h[ho + j] as number);
  return a0 + a1 + a2 + a3;
}

/**
 * `phases` kernels of 2 x half taps each, flattened. Kernel p serves output positions p/phases
 * of an input sample past its centre sample; each is normalised to unit DC gain.
 */
function kernelTable(inRate: number, outRate: number, phases: number) {
  const cutoff = (ROLLOFF * Math.min(inRate, outRate)) / 2 / inRate; // cycles per input sample
  const width = ZERO_CROSSINGS / (2 * cutoff); // half-length in input samples
  const half = Math.ceil(width);
  const taps = 2 * half;
  const table = new Float32Array(phases * taps);
  const i0beta = besselI0(BETA);
  for (let p = 0; p < phases; p++) {
    const frac = p / phases;
    let sum = 0;
    const row = new Float64Array(taps);
    for (let j = 0; j < taps; j++) {
      const t = j - half + 1 - frac; // tap's distance from the output position
      const x = t / width;
      if (Math.abs(x) >= 1) continue;
      const arg = 2 * cutoff * t;
      const sinc = arg === 0 ? 1 : Math.sin(Math.PI * arg) / (Math.PI * arg);
      row[j] = sinc * (besselI0(BETA * Math.sqrt(1 - x * x)) / i0beta);
      sum += row[j] as number;
    }
    for (let j = 0; j < taps; j++) table[p * taps + j] = (row[j] as number) / sum;
  }
  return { table, half };
}

function besselI0(x: number): number {
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 50 && term > sum * 1e-12; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
