/**
 * Which decoder a file needs, from its first bytes. File names and MIME types in Matrix events
 * are whatever the sender's client said, so the bytes decide. Anything unrecognised is
 * refused here, before a WASM decoder ever sees it.
 */
import { AudioUnsupportedError } from './errors.ts';
import type { AudioFormat } from './types.ts';

export type SniffResult =
  | { kind: 'audio'; format: AudioFormat }
  /** `what` names what the bytes are instead, when we can tell (for the user message). */
  | { kind: 'unsupported'; what?: string };

/** The format of `bytes`; throws AudioUnsupportedError for anything we do not decode. */
export function sniffAudio(bytes: Uint8Array): AudioFormat {
  const r = sniff(bytes);
  if (r.kind === 'audio') return r.format;
  throw new AudioUnsupportedError(r.what);
}

export function sniff(bytes: Uint8Array): SniffResult {
  if (bytes.length === 0) return { kind: 'unsupported', what: 'an empty file' };
  if (ascii(bytes, 0, 3) === 'ID3') return afterId3(bytes);
  const tag4 = ascii(bytes, 0, 4);
  if (tag4 === 'OggS') return ogg(bytes);
  if (tag4 === 'fLaC') return audio('flac');
  if (tag4 === 'RIFF' || tag4 === 'RF64') return riff(bytes, tag4);
  if (ascii(bytes, 4, 4) === 'ftyp') return isoMedia(bytes);
  if (bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) {
    return audio('webm'); // EBML: WebM or Matroska, one decoder for both
  }
  const mpeg = mpegAt(bytes, 0, true);
  if (mpeg) return audio(mpeg);
  return { kind: 'unsupported', what: otherKind(bytes) };
}

function audio(format: AudioFormat): SniffResult {
  return { kind: 'audio', format };
}

/** ID3v2 is a tag in front of MP3 (rarely AAC or FLAC): skip it and look at what follows. */
function afterId3(bytes: Uint8Array): SniffResult {
  const b = (i: number) => bytes[i] ?? 0;
  const size = ((b(6) & 0x7f) << 21) | ((b(7) & 0x7f) << 14) | ((b(8) & 0x7f) << 7) | (b(9) & 0x7f);
  let o = 10 + size + (b(5) & 0x10 ? 10 : 0);
  // Some taggers pad with zeros past the declared size.
  const padEnd = Math.min(bytes.length, o + 4096);
  while (o < padEnd && bytes[o] === 0) o++;
  if (ascii(bytes, o, 4) === 'fLaC') return audio('flac');
  // A tag with nothing decodable after it is still an MP3 to the sender: the decoder says more.
  return audio(mpegAt(bytes, o, false) ?? 'mp3');
}

function ogg(bytes: Uint8Array): SniffResult {
  const segments = bytes[26] ?? 0;
  const head = ascii(bytes, 27 + segments, 8);
  if (head === 'OpusHead') return audio('ogg-opus');
  if (head.startsWith('\x01vorbis')) return audio('ogg-vorbis');
  if (head.startsWith('\x7fFLAC')) return { kind: 'unsupported', what: 'FLAC audio in Ogg' };
  if (head.startsWith('Speex')) return { kind: 'unsupported', what: 'Speex audio (in Ogg)' };
  if (head.startsWith('\x80theora')) return { kind: 'unsupported', what: 'an Ogg/Theora video' };
  return { kind: 'unsupported', what: 'an Ogg file with a codec I do not know' };
}

function riff(bytes: Uint8Array, tag: string): SniffResult {
  const form = ascii(bytes, 8, 4);
  if (form === 'WAVE') {
    return tag === 'RIFF' ? audio('wav') : { kind: 'unsupported', what: 'an RF64 (large) WAV' };
  }
  if (form === 'AVI ') return { kind: 'unsupported', what: 'an AVI video' };
  if (form === 'WEBP') return { kind: 'unsupported', what: 'a WebP image' };
  return { kind: 'unsupported', what: 'a RIFF file that is not WAV' };
}

/** ISO base media (MP4, M4A, MOV, 3GP): the decoder takes the audio track, except of images. */
function isoMedia(bytes: Uint8Array): SniffResult {
  const brand = ascii(bytes, 8, 4);
  if (/^(avif|avis|heic|heix|heim|heis|hevc|mif1|msf1)$/.test(brand)) {
    return { kind: 'unsupported', what: 'an AVIF/HEIC image' };
  }
  return audio('m4a');
}

/**
 * An MPEG audio (MP1/2/3) or ADTS (AAC) frame header at `o`. Two sync bits in a row are cheap
 * to hit in random data, so without a tag vouching for the file the next frame must line up.
 */
function mpegAt(bytes: Uint8Array, o: number, confirm: boolean): 'mp3' | 'aac' | undefined {
  const len = frameLength(bytes, o);
  if (len === undefined) return undefined;
  const kind = ((bytes[o + 1] ?? 0) & 0x06) === 0 ? 'aac' : 'mp3';
  if (!confirm) return kind;
  // Free-format MP3 (no length to check) is too rare to be worth a false positive.
  if (len === 0) return undefined;
  if (o + len + 4 > bytes.length) return kind;
  const next = frameLength(bytes, o + len);
  return next === undefined ? undefined : kind;
}

const MP3_KBPS = {
  v1l1: [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  v1l2: [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  v1l3: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  v2l1: [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  v2l23: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const MP3_RATES = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };

/** Byte length of the frame whose header is at `o` (0: free format); undefined if none. */
function frameLength(bytes: Uint8Array, o: number): number | undefined {
  if (o + 6 > bytes.length || bytes[o] !== 0xff) return undefined;
  const b1 = bytes[o + 1] ?? 0;
  const b2 = bytes[o + 2] ?? 0;
  if ((b1 & 0xe0) !== 0xe0) return undefined;
  if ((b1 & 0xf6) === 0xf0) {
    // ADTS: a 13-bit frame length that includes its 7- or 9-byte header.
    if (((b2 >> 2) & 0x0f) > 12) return undefined;
    const n =
      (((bytes[o + 3] ?? 0) & 3) << 11) | ((bytes[o + 4] ?? 0) << 3) | ((bytes[o + 5] ?? 0) >> 5);
    return n >= 7 ? n : undefined;
  }
  const version = (b1 >> 3) & 3; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5, 1: reserved
  const layer = (b1 >> 1) & 3; // 3: Layer I, 2: II, 1: III
  const rates =
    version === 3
      ? MP3_RATES[3]
      : version === 2
        ? MP3_RATES[2]
        : version === 0
          ? MP3_RATES[0]
          : undefined;
  const rate = rates?.[(b2 >> 2) & 3];
  const brIndex = b2 >> 4;
  if (rate === undefined || layer === 0 || brIndex === 15) return undefined;
  if (brIndex === 0) return 0;
  const v1 = version === 3;
  const table =
    layer === 3
      ? v1
        ? MP3_KBPS.v1l1
        : MP3_KBPS.v2l1
      : v1
        ? layer === 2
          ? MP3_KBPS.v1l2
          : MP3_KBPS.v1l3
        : MP3_KBPS.v2l23;
  const bps = (table[brIndex] ?? 0) * 1000;
  const pad = (b2 >> 1) & 1;
  if (layer === 3) return (Math.floor((12 * bps) / rate) + pad) * 4;
  const perFrame = layer === 1 && !v1 ? 72 : 144;
  return Math.floor((perFrame * bps) / rate) + pad;
}

/**
 * The length an MP4/M4A declares in its movie header (`moov/mvhd`), when it has one; fragmented
 * files may not. The demuxer decodes such a file in one go, so this is how a too-long one is
 * refused before it is turned into gigabytes of samples.
 */
export function mp4DeclaredSeconds(bytes: Uint8Array): number | undefined {
  const moov = findBox(bytes, 0, bytes.length, 'moov');
  const mvhd = moov && findBox(bytes, moov.body, moov.end, 'mvhd');
  if (!mvhd) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const long = bytes[mvhd.body] === 1; // version 1: 64-bit times
  if (mvhd.body + (long ? 32 : 20) > mvhd.end) return undefined;
  const timescale = v.getUint32(mvhd.body + (long ? 20 : 12));
  const duration = long ? Number(v.getBigUint64(mvhd.body + 24)) : v.getUint32(mvhd.body + 16);
  if (timescale === 0 || duration === 0xffffffff || (long && duration >= 2 ** 64)) return undefined;
  return duration / timescale;
}

function findBox(bytes: Uint8Array, start: number, end: number, type: string) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Every box is at least 8 bytes long, so a hostile size cannot stall the walk.
  for (let o = start; o + 8 <= end; ) {
    let size = v.getUint32(o);
    let header = 8;
    if (size === 1) {
      if (o + 16 > end) return undefined;
      size = Number(v.getBigUint64(o + 8));
      header = 16;
    } else if (size === 0) {
      size = end - o; // the box runs to the end of its parent
    }
    if (size < header) return undefined;
    if (ascii(bytes, o + 4, 4) === type) return { body: o + header, end: Math.min(end, o + size) };
    o += size;
  }
  return undefined;
}

/** Magic numbers of things people send by mistake, checked against the first 16 bytes. */
const OTHER: [(head: string) => boolean, string][] = [
  [(h) => h.startsWith('%PDF'), 'a PDF document'],
  [(h) => h.startsWith('\x89PNG'), 'a PNG image'],
  [(h) => h.startsWith('\xff\xd8\xff'), 'a JPEG image'],
  [(h) => h.startsWith('GIF8'), 'a GIF image'],
  [(h) => h.startsWith('PK\x03\x04'), 'a ZIP archive (or an office document)'],
  [(h) => h.startsWith('\x1f\x8b'), 'a gzip archive'],
  [(h) => h.startsWith('FORM') && /^AIF[FC]$/.test(h.slice(8, 12)), 'AIFF audio'],
  [(h) => h.startsWith('#!AMR'), 'AMR audio'],
  [(h) => h.startsWith('caff'), 'CAF audio'],
  [(h) => h.startsWith('\x30\x26\xb2\x75'), 'a WMA/ASF file'],
  [(h) => h.startsWith('MThd'), 'a MIDI file (notes, not sound)'],
  [(h) => h.startsWith('\x7fELF'), 'a program'],
];

function otherKind(bytes: Uint8Array): string | undefined {
  const head = ascii(bytes, 0, 16);
  for (const [matches, what] of OTHER) if (matches(head)) return what;
  const sample = bytes.subarray(0, 512);
  // Printable ASCII and UTF-8 continuation bytes only: someone sent text (or HTML) instead.
  if (sample.every((c) => c === 9 || c === 10 || c === 13 || (c >= 32 && c !== 127))) {
    return 'a text file';
  }
  return undefined;
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  if (offset < 0 || offset >= bytes.length) return '';
  return String.fromCharCode(...bytes.subarray(offset, offset + length));
}
