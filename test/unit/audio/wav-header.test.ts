/**
 * A WAV's header is checked before the full decoder sees it, and the decoder is given a
 * header of the checked values and the data alone: what it would otherwise trust (samples per
 * ADPCM block, block size, channels) turned a few KiB into minutes of audio and gigabytes of
 * samples, and a large chunk before the header cost time in the square of its size.
 */
import { describe, expect, it } from 'vitest';
import { AudioError, decodeAudio } from '../../../src/audio/index.ts';

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

const le16 = (x: number) => [x & 0xff, (x >> 8) & 0xff];
const wav = (f: Fmt, data: Uint8Array) =>
  riff([
    ['fmt ', fmtChunk(f)],
    ['data', data],
  ]);

async function refusal(bytes: Uint8Array): Promise<AudioError> {
  const err = await decodeAudio(bytes).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AudioError);
  return err as AudioError;
}

/** The seven predictor pairs every MS ADPCM file carries. */
const MS_COEFS = [256, 0, 512, -256, 0, 0, 192, 64, 240, 0, 460, -208, 392, -232];
const msExtension = (samplesPerBlock: number) => [
  ...le16(32),
  ...le16(samplesPerBlock),
  ...le16(7),
  ...MS_COEFS.flatMap(le16),
];

describe('an ADPCM WAV whose header claims more samples than its blocks hold', () => {
  it('IMA: 65535 samples per 8-byte block (it holds 9) is refused, at once', async () => {
    const bytes = wav(
      {
        tag: 0x11,
        channels: 1,
        rate: 768_000,
        blockAlign: 8,
        bits: 4,
        extension: [2, 0, 255, 255],
      },
      noise(4096),
    );
    const started = performance.now();
    const err = await refusal(bytes);
    expect(err.code).toBe('AUDIO_CORRUPT');
    expect(err.userMessage).toBe(
      'the WAV audio could not be decoded (its header claims 65535 samples in each 8-byte IMA ADPCM block, which holds at most 9); the file may be damaged or cut short',
    );
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('MS: 65535 samples per 14-byte block (it holds 16) is refused', async () => {
    const bytes = wav(
      { tag: 2, channels: 1, rate: 8000, blockAlign: 14, bits: 4, extension: msExtension(65535) },
      noise(4096),
    );
    const err = await refusal(bytes);
    expect(err.code).toBe('AUDIO_CORRUPT');
    expect(err.userMessage).toMatch(
      /65535 samples in each 14-byte MS ADPCM block, which holds at most 16/,
    );
  });

  it('a short fmt chunk cannot lend the decoder a count from the bytes after it', async () => {
    // No cbSize: the decoder read one from the 'data' tag that follows (0x6164), and a count
    // from 'ta' (24948). The header it is given now says what a block holds: 9.
    const bytes = wav({ tag: 0x11, channels: 1, rate: 8000, blockAlign: 8, bits: 4 }, noise(800));
    const d = await decodeAudio(bytes);
    expect(d.durationMs).toBeCloseTo((100 * 9 * 1000) / 8000, 0);
  });

  it('valid IMA and MS ADPCM still decode to their blocks’ samples', async () => {
    const ima = wav(
      {
        tag: 0x11,
        channels: 1,
        rate: 8000,
        blockAlign: 256,
        bits: 4,
        extension: [2, 0, ...le16(505)],
      },
      noise(256 * 16),
    );
    expect((await decodeAudio(ima)).durationMs).toBeCloseTo((16 * 505 * 1000) / 8000, 0);
    const ms = wav(
      { tag: 2, channels: 2, rate: 8000, blockAlign: 512, bits: 4, extension: msExtension(500) },
      noise(512 * 16),
    );
    expect((await decodeAudio(ms)).durationMs).toBeCloseTo((16 * 500 * 1000) / 8000, 0);
  });
});

describe('a WAV header that lies about its layout', () => {
  const pcm = { tag: 1, channels: 2, rate: 16_000, blockAlign: 4, bits: 16 };
  it.each([
    ['a block size of 0', { ...pcm, blockAlign: 0 }, /a block size of 0 bytes/],
    ['no channels', { ...pcm, channels: 0 }, /no channels/],
    ['too many channels', { ...pcm, channels: 9, blockAlign: 18 }, /claims 9 channels/],
    [
      'PCM frames of the wrong size',
      { ...pcm, blockAlign: 3 },
      /3-byte sample frames for 2 channel\(s\) of 16 bits \(4 bytes\)/,
    ],
    [
      'float frames of the wrong size',
      { ...pcm, tag: 3, bits: 32 },
      /4-byte sample frames .* \(8 bytes\)/,
    ],
    [
      'IMA blocks too small for their header',
      { tag: 0x11, channels: 2, rate: 8000, blockAlign: 4, bits: 4 },
      /too small for 2 channel/,
    ],
  ])('%s is refused as corrupt, saying why', async (_, fmt, why) => {
    const err = await refusal(wav(fmt, noise(4000)));
    expect(err.code).toBe('AUDIO_CORRUPT');
    expect(err.userMessage).toMatch(/^the WAV audio could not be decoded \(its header /);
    expect(err.userMessage).toMatch(why);
  });

  it('an encoding not decoded here is unsupported, naming its format tag', async () => {
    const err = await refusal(
      wav({ tag: 0x55, channels: 1, rate: 8000, blockAlign: 1, bits: 0 }, noise(400)),
    );
    expect(err.code).toBe('AUDIO_UNSUPPORTED');
    expect(err.userMessage).toMatch(/format 0x55/);
  });
});

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
