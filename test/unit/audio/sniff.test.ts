import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AudioUnsupportedError,
  mp4DeclaredSeconds,
  sniff,
  sniffAudio,
} from '../../../src/audio/index.ts';
import { type FixtureKind, makeSpeech, noiseBytes, type Speech } from './fixtures.ts';

let speech: Speech;
beforeAll(async () => {
  speech = await makeSpeech('Sniff test.');
});
afterAll(() => speech?.cleanup());

const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(
    parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)),
  );

/** An Ogg page whose first packet starts with `head`. */
const oggPage = (head: string) =>
  bytes('OggS', [0, 2], new Array(20).fill(0), [1, 19], head, new Array(11).fill(0));

/** MPEG-1 Layer III, 128 kbit/s, 44.1 kHz: a 417-byte frame. */
const MP3_HEADER = [0xff, 0xfb, 0x90, 0x00];
const mp3Frames = (count: number) => {
  const frame = new Uint8Array(417);
  frame.set(MP3_HEADER);
  return new Uint8Array(Array.from({ length: count }, () => [...frame]).flat());
};

describe('the bytes say which decoder a file needs', () => {
  it.each([
    ['ogg-opus', 'ogg-opus'],
    ['ogg-vorbis', 'ogg-vorbis'],
    ['mp3', 'mp3'],
    ['wav', 'wav'],
    ['wav-44k-stereo', 'wav'],
    ['flac', 'flac'],
    ['m4a', 'm4a'],
    ['aac', 'aac'],
    ['webm', 'webm'],
  ] as [FixtureKind, string][])('a real %s file is %s', (kind, format) => {
    expect(sniffAudio(speech.files[kind])).toBe(format);
  });

  it('tells Opus from Vorbis inside Ogg, and refuses the other Ogg codecs by name', () => {
    expect(sniff(oggPage('OpusHead'))).toEqual({ kind: 'audio', format: 'ogg-opus' });
    expect(sniff(oggPage('\x01vorbis'))).toEqual({ kind: 'audio', format: 'ogg-vorbis' });
    expect(sniff(oggPage('Speex   '))).toEqual({
      kind: 'unsupported',
      what: 'Speex audio (in Ogg)',
    });
    expect(sniff(oggPage('\x7fFLAC'))).toMatchObject({ kind: 'unsupported' });
  });

  it('finds MP3 behind an ID3 tag, and needs two aligned frames without one', () => {
    const tag = bytes('ID3', [4, 0, 0, 0, 0, 0, 20], new Array(20).fill(0));
    expect(sniffAudio(new Uint8Array([...tag, ...mp3Frames(1)]))).toBe('mp3');
    expect(sniffAudio(mp3Frames(3))).toBe('mp3');
    const lone = new Uint8Array(2000);
    lone.set(MP3_HEADER);
    expect(sniff(lone).kind).toBe('unsupported');
    expect(sniffAudio(bytes('ID3', [4, 0, 0, 0, 0, 0, 10], new Array(10).fill(0), 'fLaC'))).toBe(
      'flac',
    );
  });

  it('knows ADTS AAC, M4A brands and Matroska', () => {
    // ADTS, AAC LC 44.1 kHz mono, 100-byte frames.
    const adts = new Uint8Array(300);
    for (const o of [0, 100, 200]) adts.set([0xff, 0xf1, 0x50, 0x40, 0x0c, 0x9f, 0xfc], o);
    expect(sniffAudio(adts)).toBe('aac');
    expect(sniffAudio(bytes([0, 0, 0, 24], 'ftypM4A ', [0, 0, 0, 0]))).toBe('m4a');
    expect(sniff(bytes([0, 0, 0, 24], 'ftypheic', [0, 0, 0, 0]))).toMatchObject({
      what: 'an AVIF/HEIC image',
    });
    expect(sniffAudio(bytes([0x1a, 0x45, 0xdf, 0xa3], 'matroska'))).toBe('webm');
  });

  it('names what people send by mistake', () => {
    expect(sniff(bytes('%PDF-1.7\n'))).toMatchObject({ what: 'a PDF document' });
    expect(sniff(bytes([0xff, 0xd8, 0xff, 0xe0]))).toMatchObject({ what: 'a JPEG image' });
    expect(sniff(bytes('<!doctype html><p>hi</p>'))).toMatchObject({ what: 'a text file' });
    expect(sniff(bytes('FORM', [0, 0, 0, 0], 'AIFF'))).toMatchObject({ what: 'AIFF audio' });
    expect(sniff(bytes('RIFF', [0, 0, 0, 0], 'AVI '))).toMatchObject({ what: 'an AVI video' });
    expect(sniff(new Uint8Array(0))).toMatchObject({ what: 'an empty file' });
  });

  it('refuses unknown bytes with a typed error that lists what we take', () => {
    for (let seed = 1; seed <= 200; seed++) {
      expect(sniff(noiseBytes(4096, seed)).kind, `seed ${seed}`).toBe('unsupported');
    }
    const err = (() => {
      try {
        sniffAudio(noiseBytes(64));
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(AudioUnsupportedError);
    expect(err).toMatchObject({ code: 'AUDIO_UNSUPPORTED', retryable: false });
    expect((err as AudioUnsupportedError).userMessage).toMatch(
      /^this file is not in an audio format that can be transcribed; send voice messages \(Ogg\/Opus\), MP3/,
    );
  });

  it('reads the length an M4A declares, and survives hostile box sizes', () => {
    const seconds = mp4DeclaredSeconds(speech.files.m4a);
    expect(seconds).toBeGreaterThan(0.5);
    expect(seconds).toBeLessThan(5);
    expect(mp4DeclaredSeconds(bytes([0, 0, 0, 0], 'moov'))).toBeUndefined();
    expect(mp4DeclaredSeconds(bytes([0, 0, 0, 3], 'ftyp', [0, 0, 0, 1], 'moov'))).toBeUndefined();
    expect(mp4DeclaredSeconds(noiseBytes(10_000))).toBeUndefined();
  });
});
