/**
 * A WAV's chunks, walked and checked before the full decoder sees a byte of it. The decoder
 * trusts its header: an ADPCM fmt chunk claiming 65535 samples per 8-byte block (a real one
 * holds 9) made a few KiB decode to minutes of audio and gigabytes of samples. And it looks
 * for the header by re-joining and re-scanning all it was given on every piece it is fed, so
 * a large chunk before fmt/data (JUNK, say) cost time in the square of its size. So the
 * decoder gets a header written here from checked values, then the data bytes alone.
 */
import { AudioCorruptError, AudioUnsupportedError } from './errors.ts';
import { wavChunks } from './wav.ts';

/** What the decoder is given: a header of checked values, then the sound data as is. */
export interface WavForDecoder {
  header: Uint8Array;
  /** The data chunk's bytes (as far as the file goes), sharing memory with the input. */
  data: Uint8Array;
}

/** Format tags the decoder takes (0xFFFE, EXTENSIBLE, wraps one of the plain ones). */
const PCM = 1;
const MS_ADPCM = 2;
const FLOAT = 3;
const ALAW = 6;
const ULAW = 7;
const IMA_ADPCM = 0x11;
const EXTENSIBLE = 0xfffe;
const PLAIN = new Set([PCM, FLOAT, ALAW, ULAW]);
/** Chunk ids as little-endian numbers, for the header written here. */
const RIFF = 0x46464952;
const WAVE = 0x45564157;
const FMT = 0x20746d66;
const DATA = 0x61746164;

/** More is not a recording anyone sends to be transcribed (7.1 is 8). */
const MAX_CHANNELS = 8;
/** MS ADPCM allows up to 256 predictor pairs; its standard set has 7. */
const MAX_MS_COEFS = 256;

/** The WAV in `bytes` as its decoder should see it; an AudioError when the header lies. */
export function wavForDecoder(bytes: Uint8Array): WavForDecoder {
  const corrupt = (detail: string) => new AudioCorruptError('wav', detail);
  const chunks = wavChunks(bytes);
  if (!chunks) throw corrupt('it does not start with a WAV header');
  const { fmt, fmtSize = 0, data } = chunks;
  if (!fmt) throw corrupt('it has no format chunk');
  if (fmt.length < fmtSize) throw corrupt('its format chunk is cut short');
  if (!data || data.length === 0) throw corrupt('it holds no sound data');
  return { header: header(fmt, data.length, corrupt), data };
}

/** A header the decoder reads exactly as checked here: fmt, then a data chunk of `dataBytes`. */
function header(
  fmt: Uint8Array,
  dataBytes: number,
  corrupt: (detail: string) => AudioCorruptError,
): Uint8Array {
  if (fmt.length < 16) throw corrupt('its format chunk is too short');
  const f = new DataView(fmt.buffer, fmt.byteOffset, fmt.byteLength);
  let tag = f.getUint16(0, true);
  const channels = f.getUint16(2, true);
  const rate = f.getUint32(4, true);
  const blockAlign = f.getUint16(12, true);
  const bits = f.getUint16(14, true);
  if (tag === EXTENSIBLE) {
    if (fmt.length < 40) throw corrupt('its extended format chunk is too short');
    tag = f.getUint16(24, true); // the first two bytes of the SubFormat GUID
    if (!PLAIN.has(tag)) throw unsupported(tag);
  }
  if (!(rate >= 1000 && rate <= 768_000))
    throw corrupt(`its header gives a sample rate of ${rate} Hz`);
  if (channels === 0) throw corrupt('its header says it has no channels');
  if (channels > MAX_CHANNELS)
    throw corrupt(`its header claims ${channels} channels, more than the ${MAX_CHANNELS} taken`);
  if (blockAlign === 0) throw corrupt('its header gives a block size of 0 bytes');
  // The fmt chunk as the decoder will read it: the fields above, then any codec extension.
  let extension: Uint8Array = new Uint8Array(0);
  if (PLAIN.has(tag)) {
    const frame = channels * Math.ceil(bits / 8);
    if (blockAlign !== frame) {
      throw corrupt(
        `its header claims ${blockAlign}-byte sample frames for ${channels} channel(s) of ${bits} bits (${frame} bytes)`,
      );
    }
  } else if (tag === IMA_ADPCM || tag === MS_ADPCM) {
    extension = adpcmExtension(tag, f, channels, blockAlign, corrupt);
  } else {
    throw unsupported(tag);
  }
  const fmtBytes = 16 + extension.length;
  const out = new Uint8Array(12 + 8 + fmtBytes + 8);
  const o = new DataView(out.buffer);
  o.setUint32(0, RIFF, true);
  // RIFF's size counts the data too, which follows this header: at most 64 MiB of input.
  o.setUint32(4, out.length - 8 + dataBytes, true);
  o.setUint32(8, WAVE, true);
  o.setUint32(12, FMT, true);
  o.setUint32(16, fmtBytes, true);
  o.setUint16(20, tag, true);
  o.setUint16(22, channels, true);
  o.setUint32(24, rate, true);
  o.setUint32(28, Math.min(0xffffffff, rate * blockAlign), true);
  o.setUint16(32, blockAlign, true);
  o.setUint16(34, bits, true);
  out.set(extension, 36);
  o.setUint32(36 + extension.length, DATA, true);
  o.setUint32(40 + extension.length, dataBytes, true);
  return out;
}

/**
 * cbSize, samples per block (and for MS ADPCM its predictor pairs): the decoder sizes its
 * output by samples per block times blocks, so it must be what a block can hold.
 */
function adpcmExtension(
  tag: number,
  f: DataView,
  channels: number,
  blockAlign: number,
  corrupt: (detail: string) => AudioCorruptError,
): Uint8Array {
  const ima = tag === IMA_ADPCM;
  const name = ima ? 'IMA ADPCM' : 'MS ADPCM';
  // Per channel a block has a header (IMA: 4 bytes, MS: 7), then two 4-bit samples a byte;
  // the header holds one sample (IMA) or two (MS).
  const most = ima
    ? 1 + (blockAlign / channels - 4) * 2
    : 2 + ((blockAlign - 7 * channels) * 2) / channels;
  const least = ima ? 1 : 2;
  if (most < least) {
    throw corrupt(
      `its header claims ${blockAlign}-byte ${name} blocks, too small for ${channels} channel(s)`,
    );
  }
  const cbSize = f.byteLength >= 18 ? f.getUint16(16, true) : 0;
  const declared = cbSize >= 2 && f.byteLength >= 20 ? f.getUint16(18, true) : 0;
  // No count given: the decoder (like other readers) takes what a block holds.
  const samplesPerBlock = declared || Math.floor(most);
  if (samplesPerBlock > most) {
    throw corrupt(
      `its header claims ${samplesPerBlock} samples in each ${blockAlign}-byte ${name} block, which holds at most ${Math.floor(most)}`,
    );
  }
  if (samplesPerBlock < least)
    throw corrupt(`its header claims only ${samplesPerBlock} sample(s) per ${name} block`);
  let coefs: Uint8Array = new Uint8Array(0);
  if (!ima && cbSize >= 4 && f.byteLength >= 22) {
    const n = f.getUint16(20, true);
    if (n > MAX_MS_COEFS || 22 + n * 4 > f.byteLength) {
      throw corrupt(`its header claims ${n} MS ADPCM predictors, more than it holds`);
    }
    coefs = new Uint8Array(f.buffer, f.byteOffset + 20, 2 + n * 4); // the count, then pairs
  }
  // No pairs (or none given): the decoder uses MS ADPCM's standard seven.
  const out = new Uint8Array(4 + coefs.length);
  const o = new DataView(out.buffer);
  o.setUint16(0, 2 + coefs.length, true);
  o.setUint16(2, samplesPerBlock, true);
  out.set(coefs, 4);
  return out;
}

function unsupported(tag: number): AudioUnsupportedError {
  return new AudioUnsupportedError(
    `WAV audio in an encoding that is not decoded here (format 0x${tag.toString(16)})`,
  );
}
