/**
 * A WAV's chunks, walked before the full decoder sees a byte of it. The decoder looks for the
 * header by re-joining and re-scanning all it was given on every piece it is fed, so a large
 * chunk before fmt/data (JUNK, say) cost time in the square of its size. So the decoder gets a
 * header written here, then the data bytes alone: a leading chunk is stepped over, never
 * buffered or copied.
 */
import { AudioCorruptError } from './errors.ts';

/** What the decoder is given: a header written here, then the sound data as is. */
export interface WavForDecoder {
  header: Uint8Array;
  /** The data chunk's bytes (as far as the file goes), sharing memory with the input. */
  data: Uint8Array;
}

/** Chunk ids as little-endian numbers: the walk compares numbers, not strings. */
const RIFF = 0x46464952;
const WAVE = 0x45564157;
const FMT = 0x20746d66;
const DATA = 0x61746164;

/** The WAV in `bytes` as its decoder should see it; an AudioError when it has no sound. */
export function wavForDecoder(bytes: Uint8Array): WavForDecoder {
  const corrupt = (detail: string) => new AudioCorruptError('wav', detail);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 12 || v.getUint32(0, true) !== RIFF || v.getUint32(8, true) !== WAVE)
    throw corrupt('it does not start with a WAV header');
  let fmt: Uint8Array | undefined;
  let data: Uint8Array | undefined;
  // Each step moves on by at least 8 bytes: a hostile chunk size cannot make this loop.
  for (let o = 12; o + 8 <= bytes.length && !(fmt && data); ) {
    const id = v.getUint32(o, true);
    const size = v.getUint32(o + 4, true);
    const body = o + 8;
    if (id === FMT && !fmt) {
      if (body + size > bytes.length) throw corrupt('its format chunk is cut short');
      fmt = bytes.subarray(body, body + size);
    } else if (id === DATA && !data) {
      // 0 and 0xFFFFFFFF are what streaming writers leave when they cannot seek back; a
      // data chunk cut short is read as far as it goes, like a truncated upload.
      const declared = size === 0 || size === 0xffffffff ? Infinity : size;
      data = bytes.subarray(body, Math.min(bytes.length, body + declared));
    }
    o = body + size + (size & 1); // chunks are padded to even sizes
  }
  if (!fmt) throw corrupt('it has no format chunk');
  if (!data || data.length === 0) throw corrupt('it holds no sound data');
  return { header: header(fmt, data.length), data };
}

/** RIFF, WAVE, the fmt chunk as it came, then a data chunk of `dataBytes`. */
function header(fmt: Uint8Array, dataBytes: number): Uint8Array {
  const padded = fmt.length + (fmt.length & 1);
  const out = new Uint8Array(12 + 8 + padded + 8);
  const o = new DataView(out.buffer);
  o.setUint32(0, RIFF, true);
  // RIFF's size counts the data too, which follows this header: at most 64 MiB of input.
  o.setUint32(4, out.length - 8 + dataBytes, true);
  o.setUint32(8, WAVE, true);
  o.setUint32(12, FMT, true);
  o.setUint32(16, fmt.length, true);
  out.set(fmt, 20);
  o.setUint32(20 + padded, DATA, true);
  o.setUint32(24 + padded, dataBytes, true);
  return out;
}
