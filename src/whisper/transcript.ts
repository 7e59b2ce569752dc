/**
 * The whisper engine's output: a transcript with its segments and their times, stored as the
 * task's result (JSON, one schema). Parts of a split recording carry their offset; joining
 * them shifts each part's times by it. Encoding is deterministic, so any node that joins the
 * same parts stores the same bytes, hence the same CID.
 */
import { z } from 'zod';
import { joinTranscripts, transcriptText } from '../audio/subtitles.ts';

export const TRANSCRIPT_TYPE = 'meshbot.transcript';

export const segmentSchema = z.strictObject({
  startMs: z.number().nonnegative(),
  endMs: z.number().nonnegative(),
  text: z.string().max(100_000),
});

export const transcriptSchema = z.strictObject({
  type: z.literal(TRANSCRIPT_TYPE),
  text: z.string().max(10_000_000),
  language: z.string().max(16),
  durationMs: z.number().nonnegative(),
  model: z.strictObject({ name: z.string().max(64), sha256: z.string().max(64) }),
  segments: z.array(segmentSchema).max(1_000_000),
  /** Parts: where this part starts in its recording. Times in `segments` are the part's own. */
  offsetMs: z.number().nonnegative().optional(),
  /** Joined transcripts: how many parts they were made of. */
  parts: z.int().min(2).optional(),
});

export type Transcript = z.infer<typeof transcriptSchema>;
export type Segment = z.infer<typeof segmentSchema>;

export function encodeTranscript(t: Transcript): Uint8Array {
  // Keys in schema order, so equal transcripts give equal bytes.
  const ordered: Transcript = {
    type: TRANSCRIPT_TYPE,
    text: t.text,
    language: t.language,
    durationMs: Math.round(t.durationMs),
    model: { name: t.model.name, sha256: t.model.sha256 },
    segments: t.segments.map((s) => ({ startMs: s.startMs, endMs: s.endMs, text: s.text })),
  };
  if (t.offsetMs !== undefined) ordered.offsetMs = t.offsetMs;
  if (t.parts !== undefined) ordered.parts = t.parts;
  return new TextEncoder().encode(JSON.stringify(ordered));
}

/** A transcript from stored bytes, or null when they are not one. */
export function decodeTranscript(bytes: Uint8Array): Transcript | null {
  try {
    const parsed = transcriptSchema.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/** The parts of one recording, in any order, as one transcript with absolute times. */
export function joinParts(parts: Transcript[]): Transcript {
  const sorted = [...parts].sort((a, b) => (a.offsetMs ?? 0) - (b.offsetMs ?? 0));
  const segments = joinTranscripts(
    sorted.map((p) => ({ offsetMs: p.offsetMs ?? 0, segments: p.segments })),
  );
  const last = sorted[sorted.length - 1];
  const first = sorted[0];
  if (!first || !last) throw new Error('joinParts needs at least one part');
  return {
    type: TRANSCRIPT_TYPE,
    text: transcriptText(segments),
    language: mostCommon(sorted.map((p) => p.language)),
    durationMs: (last.offsetMs ?? 0) + last.durationMs,
    model: first.model,
    segments,
    parts: sorted.length,
  };
}

function mostCommon(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return (
    [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? ''
  );
}
