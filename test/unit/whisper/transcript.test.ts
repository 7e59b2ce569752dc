import { describe, expect, it } from 'vitest';
import { EngineBadInputError } from '../../../src/engines/errors.ts';
import { MAX_REPLY_TEXT_BYTES } from '../../../src/matrix/reply.ts';
import { parseWhisperParams, partParams } from '../../../src/whisper/params.ts';
import { subtitleFiles, transcriptText } from '../../../src/whisper/reply.ts';
import {
  decodeTranscript,
  encodeTranscript,
  joinParts,
  type Transcript,
} from '../../../src/whisper/transcript.ts';

const model = { name: 'base.en', sha256: 'a'.repeat(64) };
const part = (offsetMs: number, texts: string[]): Transcript => ({
  type: 'meshbot.transcript',
  text: texts.join(' '),
  language: 'en',
  durationMs: 30_000,
  model,
  segments: texts.map((text, i) => ({ startMs: i * 10_000, endMs: i * 10_000 + 9_000, text })),
  offsetMs,
});

describe('transcripts', () => {
  it('joins parts in order, whatever order they come in, with their times shifted', () => {
    const joined = joinParts([part(30_000, ['three', 'four']), part(0, ['one', 'two'])]);
    expect(joined.text).toBe('one two three four');
    expect(joined.segments.map((s) => s.startMs)).toEqual([0, 10_000, 30_000, 40_000]);
    expect(joined).toMatchObject({ durationMs: 60_000, parts: 2, language: 'en' });
  });

  it('encodes deterministically, so every node joining the same parts stores the same bytes', () => {
    const a = encodeTranscript(joinParts([part(0, ['a']), part(30_000, ['b'])]));
    const b = encodeTranscript(joinParts([part(30_000, ['b']), part(0, ['a'])]));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(decodeTranscript(a)?.text).toBe('a b');
    expect(decodeTranscript(new TextEncoder().encode('{"type":"other"}'))).toBeNull();
    expect(decodeTranscript(new Uint8Array([0xff, 0x00]))).toBeNull();
  });

  it('reads as text, with times on request, and long audio gets subtitle files', () => {
    const t = joinParts([part(0, ['hello']), part(30_000, ['mesh'])]);
    expect(transcriptText(t, { timestamps: false, maxChars: 100 })).toMatch(
      /^hello mesh\n\n\(01:00 of audio, en/,
    );
    expect(transcriptText(t, { timestamps: true, maxChars: 100 })).toMatch(
      /^\[00:00\] hello\n\[00:30\] mesh/,
    );
    const files = subtitleFiles(t, 59_000);
    expect(files.map((f) => f.name)).toEqual(['transcript.srt', 'transcript.vtt']);
    expect(new TextDecoder().decode(files[1]?.bytes)).toMatch(/^WEBVTT/);
    expect(subtitleFiles(t, 60_000)).toEqual([]);
  });

  it('keeps its last line however long its words, within what one event carries', () => {
    const t = joinParts([part(0, ['中'.repeat(20_000)])]);
    const text = transcriptText(t, { timestamps: false, maxChars: 20_000 });
    expect(text).toMatch(/… \(truncated\)\n\n\(00:30 of audio, en/);
    expect(Buffer.byteLength(JSON.stringify(text))).toBeLessThan(MAX_REPLY_TEXT_BYTES);
  });
});

describe('whisper parameters', () => {
  it('default the model and the language (.en models are English)', () => {
    expect(parseWhisperParams({}, 'base.en')).toEqual({
      model: 'base.en',
      language: 'en',
      timestamps: false,
    });
    expect(parseWhisperParams({ model: 'small', timestamps: 'yes' }, 'base.en')).toMatchObject({
      language: 'auto',
      timestamps: true,
    });
  });

  it('refuse unknown or malformed parameters with a clear message', () => {
    expect(() => parseWhisperParams({ temperature: '1' }, 'base.en')).toThrow(EngineBadInputError);
    expect(() => parseWhisperParams({ lang: 'english!' }, 'base.en')).toThrow(/language code/);
    expect(() => parseWhisperParams({ part: '3/2', offsetMs: '0' }, 'base.en')).toThrow(
      /out of range/,
    );
  });

  it('refuse another language for an English-only model instead of transcribing it as English', () => {
    // base.en is the default: `lang=de` alone would have German heard as made-up English.
    expect(() => parseWhisperParams({ lang: 'de' }, 'base.en')).toThrow(EngineBadInputError);
    expect(() => parseWhisperParams({ lang: 'de' }, 'base.en')).toThrow(/model=base\b/);
    expect(() => parseWhisperParams({ model: 'small.en', lang: 'fr' }, 'base')).toThrow(
      /small\.en knows English only/,
    );
    expect(parseWhisperParams({ lang: 'en' }, 'base.en').language).toBe('en');
    expect(parseWhisperParams({ lang: 'auto' }, 'base.en').language).toBe('auto');
    expect(parseWhisperParams({ model: 'base', lang: 'de' }, 'base.en').language).toBe('de');
  });

  it('mark the parts of a split with their place and offset', () => {
    const p = partParams({ model: 'tiny' }, 2, 5, 29_999.6);
    expect(p).toEqual({ model: 'tiny', part: '2/5', offsetMs: '30000' });
    expect(parseWhisperParams(p, 'base.en').part).toEqual({ index: 2, count: 5, offsetMs: 30_000 });
  });
});
