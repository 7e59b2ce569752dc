/**
 * How a transcript reads in the room: its text (with times on request), and for long audio
 * the subtitles as `.srt` and `.vtt` files in the request's thread.
 */
import { toSrt, toVtt } from '../audio/subtitles.ts';
import { cutText, fitReply, MAX_REPLY_TEXT_BYTES } from '../matrix/reply.ts';
import type { Transcript } from './transcript.ts';

export interface ReplyFile {
  name: string;
  mimetype: string;
  bytes: Uint8Array;
}

export function clock(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mmss = `${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}

/** The reply text: the words, or one line per segment with its start time. */
export function transcriptText(
  t: Transcript,
  opts: { timestamps: boolean; maxChars: number },
): string {
  const body = opts.timestamps
    ? t.segments.map((s) => `[${clock(s.startMs)}] ${s.text}`).join('\n')
    : t.text;
  const words = body.trim() || '(no speech recognised)';
  const cut =
    words.length > opts.maxChars ? `${cutText(words, opts.maxChars)}… (truncated)` : words;
  // What one event can carry, with the line below and the result's CID after it.
  const shown = fitReply(cut, MAX_REPLY_TEXT_BYTES - 1_000);
  const parts = t.parts ? `, ${t.parts} parts` : '';
  return `${shown}\n\n(${clock(t.durationMs)} of audio, ${t.language || '?'}, model ${t.model.name}${parts})`;
}

/** Subtitle files for audio longer than `aboveMs`; none for shorter audio. */
export function subtitleFiles(t: Transcript, aboveMs: number): ReplyFile[] {
  if (t.durationMs <= aboveMs || t.segments.length === 0) return [];
  const enc = new TextEncoder();
  return [
    {
      name: 'transcript.srt',
      mimetype: 'application/x-subrip',
      bytes: enc.encode(toSrt(t.segments)),
    },
    { name: 'transcript.vtt', mimetype: 'text/vtt', bytes: enc.encode(toVtt(t.segments)) },
  ];
}
