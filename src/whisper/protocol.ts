/**
 * Messages between the bot process and the whisper worker process. The worker decodes audio
 * the bot does not trust and runs native code, so the parent validates what it receives, and
 * the worker validates what it is asked. Node's "advanced" serialization carries typed arrays.
 */
import { z } from 'zod';
import { segmentSchema } from './transcript.ts';

const id = z.int().nonnegative();
const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected a Uint8Array');

/** How a long recording is cut into parts (absent: never split). */
export const splitOptionsSchema = z.strictObject({
  /** Audio longer than this is split instead of transcribed. */
  aboveSeconds: z.number().positive(),
  /** About how long each part is. */
  chunkSeconds: z.number().positive(),
  /** At most this many parts: longer audio gets longer parts. */
  maxParts: z.int().min(2),
});

export const runMessageSchema = z.strictObject({
  type: z.literal('run'),
  id,
  audio: bytes,
  /** The model file (verified against its sha256 by the bot before it is named here). */
  modelPath: z.string().min(1),
  /** A language code, or 'auto'. */
  language: z.string().min(2).max(8),
  threads: z.int().min(1).max(256),
  /** whisper.cpp's temperature fallback step: 0 decodes once, greedily. */
  temperatureInc: z.number().min(0).max(1),
  maxSeconds: z.number().positive(),
  split: splitOptionsSchema.optional(),
});

export const parentMessageSchema = z.discriminatedUnion('type', [
  runMessageSchema,
  z.strictObject({ type: z.literal('cancel'), id }),
]);

/** A segment crosses the channel as the transcript stores it. */
export const wireSegmentSchema = segmentSchema;

export const wireErrorSchema = z.strictObject({
  /** AUDIO_* from the decoder, MODEL_LOAD when whisper.cpp refuses the model, else FAILED. */
  code: z.enum(['AUDIO_UNSUPPORTED', 'AUDIO_CORRUPT', 'AUDIO_TOO_LONG', 'MODEL_LOAD', 'FAILED']),
  message: z.string().max(10_000),
  userMessage: z.string().max(2_000).optional(),
});

export const childMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ready'), pid: z.int() }),
  z.strictObject({ type: z.literal('progress'), id, fraction: z.number().min(0).max(1) }),
  z.strictObject({
    type: z.literal('transcript'),
    id,
    durationMs: z.number().nonnegative(),
    format: z.string().max(32),
    language: z.string().max(16),
    segments: z.array(wireSegmentSchema).max(100_000),
    /** Time spent decoding audio and in whisper.cpp, for the run's figures. */
    decodeMs: z.number().nonnegative(),
    transcribeMs: z.number().nonnegative(),
    /** CPU time of the whole run in the worker process, every thread of whisper.cpp's included. */
    cpuMs: z.number().nonnegative(),
  }),
  z.strictObject({
    type: z.literal('split'),
    id,
    durationMs: z.number().nonnegative(),
    format: z.string().max(32),
    cpuMs: z.number().nonnegative(),
    /** Each part as a 16 kHz mono WAV, in order, covering the whole recording. */
    parts: z
      .array(z.strictObject({ startMs: z.number().nonnegative(), endMs: z.number(), wav: bytes }))
      .min(2)
      .max(10_000),
  }),
  z.strictObject({ type: z.literal('failed'), id, error: wireErrorSchema }),
]);

export type RunMessage = z.infer<typeof runMessageSchema>;
export type ParentMessage = z.infer<typeof parentMessageSchema>;
export type ChildMessage = z.infer<typeof childMessageSchema>;
export type WireSegment = z.infer<typeof wireSegmentSchema>;
export type WireError = z.infer<typeof wireErrorSchema>;
export type SplitOptions = z.infer<typeof splitOptionsSchema>;
