import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { encodeWav, readWav16 } from '../../../src/audio/index.ts';

const run = promisify(execFile);

function ramp(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin(i / 7) * 0.9);
}

describe('16-bit mono WAV', () => {
  it('writes a canonical header that sox reads', async () => {
    const wav = encodeWav({ sampleRate: 16_000, samples: ramp(8000) });
    expect(wav.length).toBe(44 + 16_000);
    expect(String.fromCharCode(...wav.subarray(0, 4), ...wav.subarray(8, 16))).toBe('RIFFWAVEfmt ');
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-wav-'));
    try {
      await writeFile(join(dir, 'x.wav'), wav);
      const { stdout } = await run('soxi', [join(dir, 'x.wav')]);
      expect(stdout).toMatch(/Channels\s+: 1/);
      expect(stdout).toMatch(/Sample Rate\s+: 16000/);
      expect(stdout).toMatch(/Precision\s+: 16-bit/);
      expect(stdout).toMatch(/= 8000 samples/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('reads back what it wrote, to within one step of 16 bits', () => {
    const samples = ramp(5000);
    const back = readWav16(encodeWav({ sampleRate: 22_050, samples }));
    expect(back?.sampleRate).toBe(22_050);
    expect(back?.samples.length).toBe(5000);
    back?.samples.forEach((v, i) => {
      expect(Math.abs(v - (samples[i] as number))).toBeLessThan(1 / 32_767);
    });
  });

  it('clips overshoot and turns NaN into silence', () => {
    const back = readWav16(
      encodeWav({ sampleRate: 16_000, samples: Float32Array.of(2, -2, Number.NaN, 1, -1) }),
    );
    expect(Array.from(back?.samples ?? [])).toEqual([1, -1, 0, 1, -1]);
  });

  it('leaves other WAVs to the full decoder', () => {
    const wav = encodeWav({ sampleRate: 16_000, samples: ramp(100) });
    const stereo = wav.slice();
    new DataView(stereo.buffer).setUint16(22, 2, true);
    const float = wav.slice();
    new DataView(float.buffer).setUint16(20, 3, true);
    expect(readWav16(stereo)).toBeUndefined();
    expect(readWav16(float)).toBeUndefined();
    expect(readWav16(new TextEncoder().encode('RIFF....WAVEnothing'))).toBeUndefined();
    expect(readWav16(new Uint8Array(3))).toBeUndefined();
  });

  it('reads a truncated data chunk as far as it goes, and survives hostile chunk sizes', () => {
    const wav = encodeWav({ sampleRate: 16_000, samples: ramp(1000) });
    expect(readWav16(wav.subarray(0, 44 + 501))?.samples.length).toBe(250);
    const hostile = wav.slice();
    hostile.set(new TextEncoder().encode('junk'), 12);
    new DataView(hostile.buffer).setUint32(16, 0xfffffff0, true);
    expect(readWav16(hostile)).toBeUndefined();
  });
});
