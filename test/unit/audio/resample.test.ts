import { describe, expect, it } from 'vitest';
import { createResampler, resample } from '../../../src/audio/index.ts';

function tone(hz: number, rate: number, seconds: number, amplitude = 0.5): Float32Array {
  const x = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < x.length; i++) x[i] = amplitude * Math.sin((2 * Math.PI * hz * i) / rate);
  return x;
}

/** The middle 80%: the filter's edges see zeros beyond the signal. */
const middle = (x: Float32Array) =>
  x.subarray(Math.floor(x.length * 0.1), Math.floor(x.length * 0.9));

/** Amplitude of the `hz` component (a single-bin DFT). */
function amplitudeAt(x: Float32Array, hz: number, rate: number): number {
  let re = 0;
  let im = 0;
  x.forEach((v, i) => {
    re += v * Math.cos((2 * Math.PI * hz * i) / rate);
    im += v * Math.sin((2 * Math.PI * hz * i) / rate);
  });
  return (2 * Math.hypot(re, im)) / x.length;
}

function peak(x: Float32Array): number {
  return x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

describe('resampling to 16 kHz keeps what Whisper hears and drops what would alias', () => {
  it.each([44_100, 48_000, 22_050, 8_000])('a 1 kHz tone at %i Hz stays 1 kHz at 0.5', (rate) => {
    const input = tone(1000, rate, 1);
    const out = resample(input, rate, 16_000);
    expect(out.length).toBe(Math.ceil((input.length * 16_000) / rate));
    const mid = middle(out);
    expect(amplitudeAt(mid, 1000, 16_000)).toBeCloseTo(0.5, 3);
    expect(peak(mid)).toBeCloseTo(0.5, 2);
    // Nothing else: the rest of the signal is 60 dB down.
    expect(amplitudeAt(mid, 1500, 16_000)).toBeLessThan(0.0005);
  });

  it.each([44_100, 48_000])('a 10 kHz tone at %i Hz is stopped, not folded onto 6 kHz', (rate) => {
    const out = middle(resample(tone(10_000, rate, 1), rate, 16_000));
    expect(amplitudeAt(out, 6000, 16_000)).toBeLessThan(0.5e-3); // > 60 dB down
    expect(peak(out)).toBeLessThan(0.5e-3);
  });

  it('keeps speech frequencies flat up to 6 kHz', () => {
    for (const hz of [100, 3000, 6000]) {
      const out = middle(resample(tone(hz, 48_000, 1), 48_000, 16_000));
      expect(amplitudeAt(out, hz, 16_000), `${hz} Hz`).toBeCloseTo(0.5, 2);
    }
  });

  it('passes DC at unity gain and handles rates with no common factor', () => {
    const dc = middle(resample(new Float32Array(44_101).fill(0.25), 44_101, 16_000));
    for (const v of dc) expect(v).toBeCloseTo(0.25, 4);
    const odd = middle(resample(tone(1000, 44_101, 1), 44_101, 16_000));
    expect(amplitudeAt(odd, 1000, 16_000)).toBeCloseTo(0.5, 3);
  });

  it('gives the same samples streamed in uneven pieces as in one go', () => {
    const input = tone(440, 44_100, 2.345);
    const whole = resample(input, 44_100, 16_000);
    const r = createResampler(44_100, 16_000);
    const parts: Float32Array[] = [];
    for (let i = 0, n = 1; i < input.length; i += n, n = 1 + ((n * 7 + 3) % 4999)) {
      parts.push(r.push(input.subarray(i, i + n)));
    }
    parts.push(r.flush());
    const streamed = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      streamed.set(p, o);
      o += p.length;
    }
    expect(streamed).toEqual(whole);
  });

  it('copies at an unchanged rate and refuses nonsense rates', () => {
    const x = tone(1000, 16_000, 0.1);
    const y = resample(x, 16_000, 16_000);
    expect(y).toEqual(x);
    expect(y).not.toBe(x);
    expect(() => createResampler(0, 16_000)).toThrow(RangeError);
    expect(() => createResampler(44_100.5, 16_000)).toThrow(RangeError);
  });
});
