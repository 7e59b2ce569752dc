/**
 * Media downloads whose size cap holds while the bytes arrive. matrix-bot-sdk's
 * `downloadContent` reads the whole body into memory before returning it, so a member who
 * posted a large file (up to the homeserver's upload limit) made every node that fetched it
 * hold all of it before any cap applied. Here the answer's Content-Length is checked first,
 * and the body is read chunk by chunk and dropped, connection and all, once it passes the cap.
 * A whole download also has a deadline: a media server that drips a byte at a time would
 * otherwise hold a caller for as long as it liked.
 */
import { BadInputError, MeshError, TimeoutError } from '../errors/index.ts';
import { retryAfterHeader } from './retry.ts';

/** Where media come from: the account's homeserver and its token (never logged). */
export interface MediaSource {
  homeserverUrl: string;
  accessToken: string;
}

export interface DownloadOptions {
  maxBytes: number;
  signal?: AbortSignal;
  /** Longest a whole download may take, ms. Default DOWNLOAD_TIMEOUT_MS. */
  timeoutMs?: number;
}

/** Two minutes: a CAR or a voice message at the input cap takes seconds on any real link. */
export const DOWNLOAD_TIMEOUT_MS = 120_000;

/** A media request the homeserver answered with an error. `statusCode`, `errcode` and
 * `retryAfterMs` are the fields `withRetry` reads: 5xx and rate limits are tried again. */
export class MediaHttpError extends MeshError {
  readonly statusCode: number;
  readonly errcode: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(mxc: string, statusCode: number, errcode?: string, retryAfterMs?: number) {
    const why = errcode ? `${statusCode} ${errcode}` : String(statusCode);
    super('MEDIA', `the homeserver answered ${why} for ${mxc}`, {
      retryable: statusCode >= 500 || statusCode === 429,
    });
    this.statusCode = statusCode;
    this.errcode = errcode;
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * Media over the caller's cap. Typed so that a caller can say it in its own terms (a chat
 * user's file gets the limit, not the media address); still a BadInputError: never retried.
 */
export class MediaTooLargeError extends BadInputError {
  readonly maxBytes: number;

  constructor(mxc: string, maxBytes: number) {
    super(`media ${mxc} is larger than ${maxBytes} bytes`);
    this.maxBytes = maxBytes;
  }
}

// Server name: a host name (labels joined by single dots: `.` or `..` would be a path step
// once in the URL, and the request would go to another endpoint with the token), an IPv4 or a
// bracketed IPv6 address, maybe a port. Media ID: the spec's characters.
const MXC =
  /^mxc:\/\/([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?\/([A-Za-z0-9_-]+)$/;

/** The media's bytes, at most `maxBytes` of them, or an error that says why not. */
export async function downloadMedia(
  source: MediaSource,
  mxc: string,
  opts: DownloadOptions,
): Promise<Uint8Array> {
  const match = MXC.exec(mxc);
  if (!match) throw new BadInputError(`not a media address: ${JSON.stringify(mxc.slice(0, 80))}`);
  const server = `${match[1]}${match[2] ?? ''}`;
  const path = `${encodeURIComponent(server)}/${encodeURIComponent(match[3] as string)}`;
  const timeoutMs = opts.timeoutMs ?? DOWNLOAD_TIMEOUT_MS;
  const deadline = AbortSignal.timeout(timeoutMs);
  const stop = new AbortController();
  const signal = AbortSignal.any([deadline, stop.signal, ...(opts.signal ? [opts.signal] : [])]);
  try {
    // Authenticated media (Matrix 1.11); servers older than that know only the v3 path.
    let res = await get(source, `/_matrix/client/v1/media/download/${path}`, signal);
    if (res.status === 404 || res.status === 405) {
      const { errcode } = await errorOf(res);
      if (res.status === 405 || errcode === 'M_UNRECOGNIZED') {
        res = await get(source, `/_matrix/media/v3/download/${path}`, signal);
      } else {
        throw new MediaHttpError(mxc, res.status, errcode);
      }
    }
    if (!res.ok) {
      // Matrix gives the wait in the body (`retry_after_ms`); HTTP in a header.
      const { errcode, retryAfterMs } = await errorOf(res);
      const wait = retryAfterMs ?? retryAfterHeader(res.headers.get('retry-after'));
      throw new MediaHttpError(mxc, res.status, errcode, wait);
    }
    const tooLarge = () => new MediaTooLargeError(mxc, opts.maxBytes);
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    if (declared > opts.maxBytes) throw tooLarge();
    return await readCapped(res, opts.maxBytes, tooLarge);
  } catch (err) {
    if (opts.signal?.aborted) throw new MeshError('ABORTED', `download of ${mxc} aborted`);
    if (deadline.aborted) {
      throw new TimeoutError(`media ${mxc} did not arrive within ${timeoutMs} ms`, { cause: err });
    }
    throw networkCause(err);
  } finally {
    // Closes the connection of a body left unread (an error, a refusal, a size over the cap).
    stop.abort();
  }
}

function get(source: MediaSource, path: string, signal: AbortSignal): Promise<Response> {
  const base = source.homeserverUrl.replace(/\/+$/, '');
  return fetch(`${base}${path}`, {
    headers: { authorization: `Bearer ${source.accessToken}` },
    signal,
  });
}

async function readCapped(
  res: Response,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (res.body) {
    for await (const chunk of res.body) {
      total += chunk.byteLength;
      if (total > maxBytes) throw tooLarge();
      chunks.push(chunk);
    }
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/** The `errcode` and `retry_after_ms` of an error answer, read from at most its first 4 KiB. */
async function errorOf(res: Response): Promise<{ errcode?: string; retryAfterMs?: number }> {
  try {
    const reader = res.body?.getReader();
    if (!reader) return {};
    const first = await reader.read();
    await reader.cancel();
    const text = new TextDecoder().decode(first.value?.subarray(0, 4096));
    const body = JSON.parse(text) as { errcode?: unknown; retry_after_ms?: unknown };
    const ms = body.retry_after_ms;
    return {
      errcode: typeof body.errcode === 'string' ? body.errcode.slice(0, 64) : undefined,
      retryAfterMs: typeof ms === 'number' && ms > 0 ? ms : undefined,
    };
  } catch {
    return {};
  }
}

/** fetch reports a refused or reset connection as `TypeError: fetch failed` with the system
 * error as its cause: `withRetry` knows those by their code. */
function networkCause(err: unknown): unknown {
  if (err instanceof TypeError && typeof (err.cause as { code?: unknown })?.code === 'string') {
    return err.cause;
  }
  return err;
}
