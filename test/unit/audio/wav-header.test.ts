/**
 * A WAV's chunks are walked before the full decoder sees them, and the decoder is given a
 * header and the data alone: a large chunk before the header cost time in the square of its
 * size.
 */
import { describe, expect, it } from 'vitest';
import { decodeAudio } from '../../../src/audio/index.ts';

interface Fmt {
  tag: number;
  channels: number;
  rate: number;
  blockAlign: number;
  bits: number;
  /** Bytes after the 16 common ones (cbSize and what follows). */
  extension?: number[];
}

/** A WAV of `chunks` (id, body) after RIFF/WAVE. */
function riff(chunks: [string, Uint8Array][]): Uint8Array {
  const size = chunks.reduce((n, [, b]) => n + 8 + b.length + (b.length & 1), 12);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  const tag = (o: number, s: string) => {
    for (let i = 0; i < 4; i++) out[o + i] = s.charCodeAt(i);
  };
  tag(0, 'RIFF');
  v.setUint32(4, size - 8, true);
  tag(8, 'WAVE');
  let o = 12;
  for (const [id, body] of chunks) {
    tag(o, id);
    v.setUint32(o + 4, body.length, true);
    out.set(body, o + 8);
    o += 8 + body.length + (body.length & 1);
  }
  return out;
}

function fmtChunk(f: Fmt): Uint8Array {
  const ext = f.extension ?? [];
  const b = new Uint8Array(16 + ext.length);
  const v = new DataView(b.buffer);
  v.setUint16(0, f.tag, true);
  v.setUint16(2, f.channels, true);
  v.setUint32(4, f.rate, true);
  v.setUint32(8, f.rate * f.blockAlign, true);
  v.setUint16(12, f.blockAlign, true);
  v.setUint16(14, f.bits, true);
  b.set(ext, 16);
  return b;
}

/** `n` bytes of noise (ADPCM nibbles, PCM samples: anything decodes). */
function noise(n: number, seed = 7): Uint8Array {
  const b = new Uint8Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    b[i] = s >>> 24;
  }
  return b;
}

const wav = (f: Fmt, data: Uint8Array) =>
  riff([
    ['fmt ', fmtChunk(f)],
    ['data', data],
  ]);

describe('a WAV with a large chunk before its header', () => {
  it('decodes in time linear in its size: the chunk is skipped, not buffered', async () => {
    const f = { tag: 1, channels: 2, rate: 16_000, blockAlign: 4, bits: 16 };
    const data = noise(160_000); // 2.5 s of stereo
    const plain = wav(f, data);
    const junk = riff([
      ['JUNK', new Uint8Array(16 * 1024 * 1024)],
      ['fmt ', fmtChunk(f)],
      ['data', data],
    ]);
    await decodeAudio(plain); // warm: a decoder thread ready, its modules loaded
    const time = async (bytes: Uint8Array) => {
      const t0 = performance.now();
      const d = await decodeAudio(bytes);
      expect(Math.round(d.durationMs)).toBe(2500);
      return performance.now() - t0;
    };
    const base = await time(plain);
    const ms = await time(junk);
    // Walking past 16 MiB is one step and copying it none; re-scanning it on every 64 KiB
    // piece took seconds (48 MiB: 24 s).
    console.log(
      `2.5 s of stereo: ${Math.round(base)} ms; after 16 MiB of JUNK: ${Math.round(ms)} ms`,
    );
    expect(ms).toBeLessThan(2 * base + 400);
  });
});
