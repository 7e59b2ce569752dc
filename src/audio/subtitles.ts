/**
 * Transcripts as files a person can use: SRT (every player and editor) and WebVTT (browsers),
 * and the stitching of per-chunk transcripts into one timeline.
 */
import type { Segment } from './types.ts';

/** '01:02:03,456' (SRT) or '01:02:03.456' (WebVTT); negative times are shown as zero. */
export function formatTimestamp(ms: number, style: 'srt' | 'vtt' = 'srt'): string {
  const total = Math.max(0, Math.round(Number.isFinite(ms) ? ms : 0));
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor(total / 60_000) % 60;
  const s = Math.floor(total / 1000) % 60;
  const frac = total % 1000;
  const sep = style === 'srt' ? ',' : '.';
  return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}${sep}${pad(frac, 3)}`;
}

export function toSrt(segments: Segment[]): string {
  const cues = usable(segments).map(
    (seg, i) =>
      `${i + 1}\n${formatTimestamp(seg.startMs)} --> ${formatTimestamp(seg.endMs)}\n${seg.text}\n`,
  );
  return cues.join('\n');
}

export function toVtt(segments: Segment[]): string {
  const cues = usable(segments).map(
    (seg) =>
      `${formatTimestamp(seg.startMs, 'vtt')} --> ${formatTimestamp(seg.endMs, 'vtt')}\n${escapeVtt(seg.text)}\n`,
  );
  return ['WEBVTT\n', ...cues].join('\n');
}

/**
 * One timeline from per-chunk transcripts: each part's segments shifted by its offset, parts
 * in offset order, and no segment reaching into the next part (Whisper's last timestamp may
 * overshoot its chunk). Texts are trimmed; empty ones dropped.
 */
export function joinTranscripts(parts: { offsetMs: number; segments: Segment[] }[]): Segment[] {
  const sorted = [...parts].sort((a, b) => a.offsetMs - b.offsetMs);
  const out: Segment[] = [];
  sorted.forEach((part, i) => {
    const limit = sorted[i + 1]?.offsetMs ?? Number.POSITIVE_INFINITY;
    const segs = [...part.segments].sort((a, b) => a.startMs - b.startMs);
    for (const seg of segs) {
      const text = cleanText(seg.text);
      if (!text) continue;
      const startMs = Math.min(part.offsetMs + Math.max(0, seg.startMs), limit);
      const endMs = Math.min(Math.max(part.offsetMs + seg.endMs, startMs), limit);
      out.push({ startMs, endMs, text });
    }
  });
  return out;
}

/** The transcript as plain text: the segments' texts joined by single spaces. */
export function transcriptText(segments: Segment[]): string {
  return segments
    .map((s) => cleanText(s.text))
    .filter(Boolean)
    .join(' ');
}

/** Cues with text, end never before start, and no blank line inside (it would end the cue). */
function usable(segments: Segment[]): Segment[] {
  return segments
    .map((s) => ({ ...s, text: s.text.trim().replace(/\n\s*\n/g, '\n') }))
    .filter((s) => s.text.length > 0)
    .map((s) => ({ ...s, endMs: Math.max(s.endMs, s.startMs) }));
}

function cleanText(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** WebVTT cue text is markup: '&' and '<' must be escaped, and '-->' may not appear. */
function escapeVtt(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
