import { describe, expect, it } from 'vitest';
import {
  formatTimestamp,
  joinTranscripts,
  type Segment,
  toSrt,
  toVtt,
  transcriptText,
} from '../../../src/audio/index.ts';

const segments: Segment[] = [
  { startMs: 0, endMs: 2500, text: ' Hello from the mesh.' },
  { startMs: 2500, endMs: 3723456, text: 'A <long> & winding\n\nanswer.' },
];

describe('transcripts as subtitles', () => {
  it('formats timestamps for SRT and WebVTT', () => {
    expect(formatTimestamp(0)).toBe('00:00:00,000');
    expect(formatTimestamp(3_723_456)).toBe('01:02:03,456');
    expect(formatTimestamp(3_723_456, 'vtt')).toBe('01:02:03.456');
    expect(formatTimestamp(1.6)).toBe('00:00:00,002');
    expect(formatTimestamp(59_999.6)).toBe('00:01:00,000');
    expect(formatTimestamp(-5)).toBe('00:00:00,000');
    expect(formatTimestamp(360_000_000)).toBe('100:00:00,000');
  });

  it('writes SRT cues numbered from 1, without blank lines inside a cue', () => {
    expect(toSrt(segments)).toBe(
      '1\n00:00:00,000 --> 00:00:02,500\nHello from the mesh.\n\n' +
        '2\n00:00:02,500 --> 01:02:03,456\nA <long> & winding\nanswer.\n',
    );
  });

  it('writes WebVTT with its header and escaped cue text', () => {
    expect(toVtt(segments)).toBe(
      'WEBVTT\n\n00:00:00.000 --> 00:00:02.500\nHello from the mesh.\n\n' +
        '00:00:02.500 --> 01:02:03.456\nA &lt;long&gt; &amp; winding\nanswer.\n',
    );
  });

  it('skips empty cues, keeps numbering contiguous and never ends a cue before it starts', () => {
    const srt = toSrt([
      { startMs: 0, endMs: 1000, text: '   ' },
      { startMs: 5000, endMs: 4000, text: 'late' },
    ]);
    expect(srt).toBe('1\n00:00:05,000 --> 00:00:05,000\nlate\n');
    expect(toSrt([])).toBe('');
    expect(toVtt([])).toBe('WEBVTT\n');
  });
});

describe('per-chunk transcripts become one', () => {
  it('shifts each part by its offset, in offset order, and joins the text', () => {
    const joined = joinTranscripts([
      { offsetMs: 30_000, segments: [{ startMs: 1000, endMs: 4000, text: ' second part ' }] },
      {
        offsetMs: 0,
        segments: [
          { startMs: 12_000, endMs: 29_000, text: 'then this.' },
          { startMs: 0, endMs: 12_000, text: 'First  this,' },
        ],
      },
    ]);
    expect(joined).toEqual([
      { startMs: 0, endMs: 12_000, text: 'First this,' },
      { startMs: 12_000, endMs: 29_000, text: 'then this.' },
      { startMs: 31_000, endMs: 34_000, text: 'second part' },
    ]);
    expect(transcriptText(joined)).toBe('First this, then this. second part');
  });

  it('keeps a segment that overshoots its chunk out of the next one, and drops empty ones', () => {
    const joined = joinTranscripts([
      {
        offsetMs: 0,
        segments: [
          { startMs: 28_000, endMs: 30_400, text: 'overshoot' },
          { startMs: 29_000, endMs: 29_500, text: ' ' },
        ],
      },
      { offsetMs: 30_000, segments: [{ startMs: -200, endMs: 900, text: 'next' }] },
    ]);
    expect(joined).toEqual([
      { startMs: 28_000, endMs: 30_000, text: 'overshoot' },
      { startMs: 30_000, endMs: 30_900, text: 'next' },
    ]);
  });
});
