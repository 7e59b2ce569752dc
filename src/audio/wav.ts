/**
 * 16-bit PCM mono WAV, the simplest file every tool reads: how chunks travel to an engine (or
 * to a person debugging one), and what comes back from them. The reader is a fast path for
 * exactly this shape; anything else goes through the full decoder.
 */
import type { Pcm } from './types.ts';

const HEADER_BYTES = 44;

/** A canonical 44-byte-header WAV of `pcm`, samples clamped to [-1, 1]. */
export function encodeWav(pcm: Pcm): Uint8Array {
  const n = pcm.samples.length;
  const out = new Uint8Array(HEADER_BYTES + n * 2);
  const v = new DataView(out.buffer);
  const tag = (at: number, s: string) => {
    for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i);
  };
  tag(0, 'RIFF');
  v.setUint32(4, 36 + n * 2, true);
  tag(8, 'WAVE');
  tag(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true); // PCM
  v.setUint16(22, 1, true); // mono
  v.setUint32(24, pcm.sampleRate, true);
  v.setUint32(28, pcm.sampleRate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  tag(36, 'data');
  v.setUint32(40, n * 2, true);
  for (let i = 0; i < n; i++) {
    const s = pcm.samples[i] as number;
    const c = s > 1 ? 1 : s < -1 ? -1 : Number.isNaN(s) ? 0 : s; // NaN becomes silence
    v.setInt16(HEADER_BYTES + i * 2, Math.round(c < 0 ? c * 0x8000 : c * 0x7fff), true);
  }
  return out;
}

/** A WAV's first fmt and data chunks, each as far as the file goes. */
export interface WavChunks {
  fmt?: Uint8Array;
  /** The size the fmt chunk declares (more than `fmt` holds when the file is cut short). */
  fmtSize?: number;
  data?: Uint8Array;
}

/**
 * The chunks of a WAV, or undefined when `bytes` is no RIFF/WAVE file. A data chunk cut short
 * is read as far as it goes, like a truncated upload.
 */
export function wavChunks(bytes: Uint8Array): WavChunks | undefined {
  if (bytes.length < 12 || ascii(bytes, 0) !== 'RIFF' || ascii(bytes, 8) !== 'WAVE') return;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: WavChunks = {};
  // Each step moves on by at least 8 bytes: a hostile chunk size cannot make this loop.
  for (let o = 12; o + 8 <= bytes.length && !(out.fmt && out.data); ) {
    const id = ascii(bytes, o);
    const size = v.getUint32(o + 4, true);
    const body = o + 8;
    if (id === 'fmt ' && !out.fmt) {
      out.fmt = bytes.subarray(body, Math.min(bytes.length, body + size));
      out.fmtSize = size;
    } else if (id === 'data' && !out.data) {
      // 0 and 0xFFFFFFFF are what streaming writers leave when they cannot seek back.
      const declared = size === 0 || size === 0xffffffff ? Infinity : size;
      out.data = bytes.subarray(body, Math.min(bytes.length, body + declared));
    }
    o = body + size + (size & 1); // chunks are padded to even sizes
  }
  return out;
}

/**
 * The samples of a 16-bit PCM mono WAV (ours or anyone's), or undefined when `bytes` is some
 * other WAV (or no WAV) and needs the full decoder.
 */
export function readWav16(bytes: Uint8Array): Pcm | undefined {
  const { fmt, fmtSize = 0, data } = wavChunks(bytes) ?? {};
  if (!fmt || !data || fmt.length < 16) return;
  const f = new DataView(fmt.buffer, fmt.byteOffset, fmt.byteLength);
  const format = f.getUint16(0, true);
  const extensiblePcm =
    format === 0xfffe && fmtSize >= 40 && fmt.length >= 26 && f.getUint16(24, true) === 1;
  if (!(format === 1 || extensiblePcm)) return;
  if (f.getUint16(2, true) !== 1 || f.getUint16(14, true) !== 16) return;
  const rate = f.getUint32(4, true);
  if (rate < 1000 || rate > 768_000) return;
  const d = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const n = Math.floor(data.length / 2);
  const samples = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = d.getInt16(i * 2, true);
    samples[i] = x < 0 ? x / 0x8000 : x / 0x7fff; // the inverse of encodeWav's scaling
  }
  return { sampleRate: rate, samples };
}

function ascii(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(
    bytes[at] ?? 0,
    bytes[at + 1] ?? 0,
    bytes[at + 2] ?? 0,
    bytes[at + 3] ?? 0,
  );
}
