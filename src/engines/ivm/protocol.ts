/**
 * Messages between the bot process and the sandbox process. Both sides validate what they
 * receive: the sandbox process runs hostile code, so the parent never trusts its messages.
 * The channel uses Node's "advanced" serialization, so Uint8Array crosses as is.
 *
 * The schemas below are the protocol. The sandbox checks its parent's messages with
 * `parseParentMessage`, written out by hand: zod's parse took about 0.1 ms of each task on
 * the sandbox's cold path (its only sender is the bot, so the check guards against bugs,
 * not attacks). A unit test holds the two to the same answers.
 */
import { z } from 'zod';

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

const RUN_KEYS = ['type', 'id', 'engine', 'cid', 'code', 'inputKind', 'input', 'params', 'limits'];
const LIMIT_MINIMA: Record<keyof WireLimits, number> = {
  memoryMb: 8,
  cpuMs: 1,
  wallMs: 1,
  maxOutputBytes: 0,
};

/** `parentMessageSchema`'s answer, faster: the message, or what is wrong with it. */
export function parseParentMessage(raw: unknown): ParentMessage | string {
  if (!isPlainObject(raw)) return 'not an object';
  if (raw.type === 'cancel') {
    if (!hasOnly(raw, ['type', 'id'])) return 'cancel: unexpected keys';
    return isId(raw.id) ? { type: 'cancel', id: raw.id } : 'cancel: bad id';
  }
  if (raw.type !== 'run') return 'unknown message type';
  if (!hasOnly(raw, RUN_KEYS)) return 'run: unexpected or missing keys';
  const { id, engine, cid, code, inputKind, input, params, limits } = raw;
  if (!isId(id)) return 'run: bad id';
  if (typeof engine !== 'string' || typeof code !== 'string') return 'run: engine or code';
  if (typeof cid !== 'string' || cid.length === 0) return 'run: bad cid';
  if (inputKind !== 'bytes' && inputKind !== 'json') return 'run: bad inputKind';
  if (!(input instanceof Uint8Array)) return 'run: input is not a Uint8Array';
  if (!isPlainObject(params)) return 'run: bad params';
  for (const key in params) if (typeof params[key] !== 'string') return 'run: bad params';
  if (!isPlainObject(limits) || !hasOnly(limits, Object.keys(LIMIT_MINIMA))) {
    return 'run: bad limits';
  }
  for (const [key, min] of Object.entries(LIMIT_MINIMA)) {
    const value = limits[key];
    if (!Number.isSafeInteger(value) || (value as number) < min) return `run: bad ${key}`;
  }
  return raw as RunMessage;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isId(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

/** Exactly these own enumerable keys. */
function hasOnly(obj: Record<string, unknown>, keys: string[]): boolean {
  const own = Object.keys(obj);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(obj, k));
}
