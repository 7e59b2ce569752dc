import { setTimeout as sleep } from 'node:timers/promises';
import { BadInputError, MeshError } from '../errors/index.ts';

export interface RetryOptions {
  /** Most attempts in all. Default 8. */
  attempts?: number;
  /** Delay when the server gives none, ms. Default 1000, doubled each time. */
  baseDelayMs?: number;
  /** Longest single wait, ms. Default 60 s. */
  maxDelayMs?: number;
  signal?: AbortSignal;
  /** `throw`: a rate-limit answer is thrown at once (a SendQueue waits it out). Default `wait`. */
  rateLimits?: 'wait' | 'throw';
}

/** Rate-limit waits that do not count as attempts, per call. */
const RATE_LIMIT_WAITS = 200;

interface HttpishError {
  statusCode?: number;
  errcode?: string;
  retryAfterMs?: number;
  body?: { errcode?: string; retry_after_ms?: number };
  code?: string;
  /** A response's headers: `request`'s plain object (lower-case names) or fetch's Headers. */
  headers?: Record<string, unknown> | { get(name: string): string | null };
}

/**
 * The wait a rate-limit error asks for, ms, or null when the error is not a rate limit: the
 * body's `retry_after_ms`, else the HTTP `Retry-After` header. A 429 whose body is no Matrix
 * error (a reverse proxy's) reaches here as matrix-bot-sdk's raw response, and newer servers
 * may give the header alone (Matrix 1.10 deprecates the body's field); read without it, such
 * a limit would be tried again every second.
 */
export function rateLimitDelay(err: unknown): number | null {
  const e = err as HttpishError;
  const errcode = e?.errcode ?? e?.body?.errcode;
  if (errcode !== 'M_LIMIT_EXCEEDED' && e?.statusCode !== 429) return null;
  return e.retryAfterMs ?? e.body?.retry_after_ms ?? retryAfterHeader(headerOf(e)) ?? 1000;
}

function headerOf(e: HttpishError): unknown {
  const h = e.headers;
  if (!h || typeof h !== 'object') return undefined;
  return typeof h.get === 'function'
    ? h.get('retry-after')
    : (h as Record<string, unknown>)['retry-after'];
}

/**
 * An HTTP `Retry-After` value (seconds, or an HTTP date) in ms from now. Undefined when it is
 * unreadable or asks for no wait at all (0, a date past): the caller's own pause then, so
 * that a confused proxy cannot make a client hammer it.
 */
export function retryAfterHeader(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = /^\s*\d+\s*$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  return ms > 0 ? ms : undefined;
}

/** Errors the server will give again for the same content, however often it is sent. */
const REFUSALS = new Set(['M_BAD_JSON', 'M_NOT_JSON', 'M_TOO_LARGE']);

/** The largest event content this client sends, in JSON bytes (the server's cap is 64 KiB). */
export const MAX_EVENT_BYTES = 60_000;

/** The client's own refusal of an event over MAX_EVENT_BYTES, before any request. */
export class EventTooLargeError extends BadInputError {
  constructor(bytes: number) {
    super(`event of ${bytes} bytes is too large to send`);
  }
}

/** The server refused this content itself (not the moment, not the network): never retry it. */
export function refusedContent(err: unknown): boolean {
  if (err instanceof EventTooLargeError) return true;
  const e = err as HttpishError;
  const errcode = e?.errcode ?? e?.body?.errcode;
  return REFUSALS.has(errcode ?? '') || e?.statusCode === 413;
}

/**
 * Network failures of the moment: a refused or broken connection, a route or resolver that is
 * down for now, and the timeouts of both HTTP clients (`request`, under matrix-bot-sdk, says
 * ESOCKETTIMEDOUT for an answer that never came; fetch, for media, says UND_ERR_*). A send
 * given up on one of these may have landed: tried again here it keeps its transaction id,
 * where the caller's own later try would post it a second time.
 */
const NETWORK_FAILURES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** Network failures and 5xx answers are worth another try; 4xx (but 429) are not. */
function transient(err: unknown): boolean {
  const e = err as HttpishError;
  if (typeof e?.statusCode === 'number') return e.statusCode >= 500;
  return NETWORK_FAILURES.has(e?.code ?? '');
}

/**
 * Runs `fn` until it succeeds, honouring `M_LIMIT_EXCEEDED`'s `retry_after_ms` and backing off
 * on transient failures. `fn` must be idempotent (sends use a stable transaction id).
 */
export async function withRetry<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? 8;
  let delay = opts.baseDelayMs ?? 1000;
  const maxDelay = opts.maxDelayMs ?? 60_000;
  // The server says when to come back: waiting for a rate limit is not a failed attempt
  // (a busy node may queue many sends behind one limit), but there is still an end.
  let limits = 0;
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const limited = rateLimitDelay(err);
      if (limited !== null && opts.rateLimits === 'throw') throw err;
      if (limited !== null && ++limits <= RATE_LIMIT_WAITS) i--;
      if (i >= attempts || (limited === null && !transient(err))) throw err;
      const wait = Math.min(limited ?? delay, maxDelay);
      delay = Math.min(delay * 2, maxDelay);
      await sleep(wait, undefined, { signal: opts.signal }).catch(() => {
        throw new MeshError('ABORTED', 'send aborted', { cause: err });
      });
    }
  }
}
