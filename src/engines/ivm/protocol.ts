/**
 * Messages between the bot process and the sandbox process. Both sides validate what they
 * receive: the sandbox process runs hostile code, so the parent never trusts its messages.
 * The channel uses Node's "advanced" serialization, so Uint8Array crosses as is.
 *
 * The schemas below are the protocol. Each side checks what it receives with a check
 * written out by hand from them (wire-check.ts), which a unit test holds to the schemas'
 * answers: zod's parse was a tenth of a millisecond of each task's cold path, on each side.
 */
import { z } from 'zod';

/**
 * The signal the sandbox process ends itself with when V8 ran out of memory in an isolate
 * beyond what its limit could stop (a huge Map, say): the task met its memory limit, it did
 * not crash. A signal, as an exit with a code hangs once V8 has lost an isolate.
 */
export const OUT_OF_MEMORY_SIGNAL = 'SIGUSR2';

/**
 * The line V8 writes to stderr first when an isolate runs out of memory for good, before
 * isolated-vm's handler runs. The parent acts on it: when the sandbox is in a synchronous
 * call into that isolate, the handler never runs (it waits for the thread the call holds),
 * and the process would hang until the kill timer. Engine code cannot write to stderr.
 */
export const V8_OUT_OF_MEMORY_LINE = '<--- Last few GCs --->';

const id = z.int().nonnegative();
// z.instanceof would narrow to Uint8Array<ArrayBuffer>; callers hold ArrayBufferLike views.
const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, 'expected a Uint8Array');

export const wireLimitsSchema = z.strictObject({
  memoryMb: z.int().min(8),
  cpuMs: z.int().min(1),
  wallMs: z.int().min(1),
  maxOutputBytes: z.int().min(0),
});

export const runMessageSchema = z.strictObject({
  type: z.literal('run'),
  id,
  /** Engine name, for messages only. */
  engine: z.string(),
  /** Engine package CID: the sandbox caches compiled code under it. */
  cid: z.string().min(1),
  code: z.string(),
  inputKind: z.enum(['bytes', 'json']),
  input: bytes,
  params: z.record(z.string(), z.string()),
  limits: wireLimitsSchema,
});

export const parentMessageSchema = z.discriminatedUnion('type', [
  runMessageSchema,
  z.strictObject({ type: z.literal('cancel'), id }),
]);

/** Failure codes the sandbox reports; the parent turns them into EngineErrors. */
export const wireErrorSchema = z.strictObject({
  code: z.enum([
    'ENGINE_TIMEOUT',
    'ENGINE_MEMORY',
    'ENGINE_FAILED',
    'ENGINE_OUTPUT',
    'ENGINE_BAD_INPUT',
    'ENGINE_ABORTED',
  ]),
  message: z.string().max(10_000),
  /** Which limit ran out, for ENGINE_TIMEOUT. */
  limit: z.enum(['cpu', 'wall']).optional(),
  /** With limit `wall`: the CPU window ran out with this much CPU used, clearly under the
   * CPU limit (run-task.ts cpuTimeout). */
  cpuUsedMs: z.number().nonnegative().optional(),
});

const logs = z.array(z.string().max(70_000)).max(201);

export const childMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ready'), pid: z.int() }),
  z.strictObject({ type: z.literal('progress'), id, fraction: z.number().min(0).max(1) }),
  z.strictObject({
    type: z.literal('done'),
    id,
    output: bytes,
    logs,
    cpuMs: z.number().nonnegative(),
  }),
  z.strictObject({ type: z.literal('failed'), id, error: wireErrorSchema, logs }),
]);

export type WireLimits = z.infer<typeof wireLimitsSchema>;
export type RunMessage = z.infer<typeof runMessageSchema>;
export type ParentMessage = z.infer<typeof parentMessageSchema>;
export type WireError = z.infer<typeof wireErrorSchema>;
export type ChildMessage = z.infer<typeof childMessageSchema>;
