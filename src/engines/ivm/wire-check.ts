/**
 * The protocol's schemas (protocol.ts) written out by hand, for the hot path: each returns
 * the message as it came, or a line saying what is wrong with it. They take exactly what
 * the schemas take, a unit test holds them to that, except that an object must be a plain
 * one (the channel's deserializer makes nothing else).
 *
 * - `parseChildMessage`, in the bot: the sandbox process runs hostile code, so this is a
 *   security boundary; a message it refuses gets the sandbox killed.
 * - `parseParentMessage`, in the sandbox: its only sender is the bot, so it guards against
 *   bugs, not attacks.
 */
import {
  type ChildMessage,
  type ParentMessage,
  type RunMessage,
  type WireLimits,
  wireErrorSchema,
} from './protocol.ts';

type Obj = Record<string, unknown>;

const RUN_KEYS = ['type', 'id', 'engine', 'cid', 'code', 'inputKind', 'input', 'params', 'limits'];
const LIMIT_MINIMA: Record<keyof WireLimits, number> = {
  memoryMb: 8,
  cpuMs: 1,
  wallMs: 1,
  maxOutputBytes: 0,
};
const LIMIT_KEYS = Object.keys(LIMIT_MINIMA);
const ERROR_CODES = new Set<string>(wireErrorSchema.shape.code.options);
const MAX_LOG_LINES = 201;
const MAX_LOG_LINE = 70_000;
const MAX_ERROR_MESSAGE = 10_000;

/** `parentMessageSchema`'s answer: the message, or what is wrong with it. */
export function parseParentMessage(raw: unknown): ParentMessage | string {
  if (!isPlainObject(raw)) return 'not an object';
  if (raw.type === 'cancel') {
    if (!hasKeys(raw, ['type', 'id'])) return 'cancel: unexpected keys';
    return isId(raw.id) ? { type: 'cancel', id: raw.id } : 'cancel: bad id';
  }
  if (raw.type !== 'run') return 'unknown message type';
  if (!hasKeys(raw, RUN_KEYS)) return 'run: unexpected or missing keys';
  const { id, engine, cid, code, inputKind, input, params, limits } = raw;
  if (!isId(id)) return 'run: bad id';
  if (typeof engine !== 'string' || typeof code !== 'string') return 'run: engine or code';
  if (typeof cid !== 'string' || cid.length === 0) return 'run: bad cid';
  if (inputKind !== 'bytes' && inputKind !== 'json') return 'run: bad inputKind';
  if (!(input instanceof Uint8Array)) return 'run: input is not a Uint8Array';
  if (!isPlainObject(params)) return 'run: bad params';
  for (const key in params) if (typeof params[key] !== 'string') return 'run: bad params';
  if (!isPlainObject(limits) || !hasKeys(limits, LIMIT_KEYS)) return 'run: bad limits';
  for (const key of LIMIT_KEYS) {
    const value = limits[key];
    if (!Number.isSafeInteger(value) || (value as number) < LIMIT_MINIMA[key as keyof WireLimits]) {
      return `run: bad ${key}`;
    }
  }
  return raw as RunMessage;
}

/** `childMessageSchema`'s answer: the message, or what is wrong with it. */
export function parseChildMessage(raw: unknown): ChildMessage | string {
  if (!isPlainObject(raw)) return 'not an object';
  switch (raw.type) {
    case 'done': {
      if (!hasKeys(raw, ['type', 'id', 'output', 'logs', 'cpuMs'])) return 'done: keys';
      if (!isId(raw.id)) return 'done: bad id';
      if (!(raw.output instanceof Uint8Array)) return 'done: output is not a Uint8Array';
      if (!isFiniteAtLeast(raw.cpuMs, 0)) return 'done: bad cpuMs';
      return areLogs(raw.logs) ? (raw as ChildMessage) : 'done: bad logs';
    }
    case 'failed': {
      if (!hasKeys(raw, ['type', 'id', 'error', 'logs'])) return 'failed: keys';
      if (!isId(raw.id)) return 'failed: bad id';
      if (!isWireError(raw.error)) return 'failed: bad error';
      return areLogs(raw.logs) ? (raw as ChildMessage) : 'failed: bad logs';
    }
    case 'progress': {
      if (!hasKeys(raw, ['type', 'id', 'fraction'])) return 'progress: keys';
      if (!isId(raw.id)) return 'progress: bad id';
      const ok = isFiniteAtLeast(raw.fraction, 0) && (raw.fraction as number) <= 1;
      return ok ? (raw as ChildMessage) : 'progress: bad fraction';
    }
    case 'ready':
      if (!hasKeys(raw, ['type', 'pid'])) return 'ready: keys';
      return Number.isSafeInteger(raw.pid) ? (raw as ChildMessage) : 'ready: bad pid';
    default:
      return 'unknown message type';
  }
}

function isWireError(v: unknown): boolean {
  if (!isPlainObject(v) || !hasKeys(v, ['code', 'message'], ['limit', 'cpuUsedMs'])) return false;
  if (typeof v.code !== 'string' || !ERROR_CODES.has(v.code)) return false;
  if (typeof v.message !== 'string' || v.message.length > MAX_ERROR_MESSAGE) return false;
  if (v.cpuUsedMs !== undefined && !isFiniteAtLeast(v.cpuUsedMs, 0)) return false;
  return v.limit === undefined || v.limit === 'cpu' || v.limit === 'wall';
}

function areLogs(v: unknown): boolean {
  if (!Array.isArray(v) || v.length > MAX_LOG_LINES) return false;
  for (let i = 0; i < v.length; i++) {
    const line: unknown = v[i];
    if (typeof line !== 'string' || line.length > MAX_LOG_LINE) return false;
  }
  return true;
}

function isPlainObject(v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isId(v: unknown): v is number {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

function isFiniteAtLeast(v: unknown, min: number): boolean {
  return typeof v === 'number' && Number.isFinite(v) && v >= min;
}

/** Every one of `required` as an own enumerable key, and no other key but `optional` ones. */
function hasKeys(obj: Obj, required: string[], optional: string[] = []): boolean {
  let present = 0;
  for (const key of Object.keys(obj)) {
    if (required.includes(key)) present++;
    else if (!optional.includes(key)) return false;
  }
  return present === required.length;
}
