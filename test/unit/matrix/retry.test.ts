import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../src/errors/index.ts';
import {
  EventTooLargeError,
  rateLimitDelay,
  refusedContent,
  withRetry,
} from '../../../src/matrix/retry.ts';

describe('sends under rate limits', () => {
  it("waits the server's retry_after_ms on M_LIMIT_EXCEEDED, then succeeds", async () => {
    let calls = 0;
    const started = Date.now();
    const result = await withRetry(async () => {
      calls++;
      if (calls < 3) throw { statusCode: 429, errcode: 'M_LIMIT_EXCEEDED', retryAfterMs: 50 };
      return 'sent';
    });
    expect(result).toBe('sent');
    expect(calls).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('does not count rate-limit waits as attempts', async () => {
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 6) throw { statusCode: 429, errcode: 'M_LIMIT_EXCEEDED', retryAfterMs: 1 };
        return 'sent';
      },
      { attempts: 2 },
    );
    expect(result).toBe('sent');
    expect(calls).toBe(6);
  });

  it('does not retry a client error', async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw { statusCode: 403, errcode: 'M_FORBIDDEN' };
      }),
    ).rejects.toMatchObject({ errcode: 'M_FORBIDDEN' });
    expect(calls).toBe(1);
  });

  it('reads the delay from the body too', () => {
    expect(rateLimitDelay({ body: { errcode: 'M_LIMIT_EXCEEDED', retry_after_ms: 1234 } })).toBe(
      1234,
    );
    expect(rateLimitDelay({ statusCode: 500 })).toBeNull();
  });

  it("reads the HTTP Retry-After header of a 429 without retry_after_ms (a proxy's, say)", () => {
    // matrix-bot-sdk throws the response itself when the body is not a Matrix error.
    const proxy = (retryAfter: string) => ({
      statusCode: 429,
      headers: { 'retry-after': retryAfter },
    });
    expect(rateLimitDelay(proxy('7'))).toBe(7_000);
    const at = new Date(Date.now() + 20_000).toUTCString();
    const fromDate = rateLimitDelay(proxy(at)) ?? 0;
    expect(fromDate).toBeGreaterThan(18_000);
    expect(fromDate).toBeLessThanOrEqual(20_000);
    // A fetch Response's headers, as a media download sees them.
    expect(rateLimitDelay({ statusCode: 429, headers: new Headers({ 'Retry-After': '3' }) })).toBe(
      3_000,
    );
    // The body's own figure, when there is one, is the Matrix answer; nonsense falls back.
    const both = { statusCode: 429, retryAfterMs: 500, headers: { 'retry-after': '9' } };
    expect(rateLimitDelay(both)).toBe(500);
    expect(rateLimitDelay(proxy('soon'))).toBe(1000);
    expect(rateLimitDelay(proxy('0'))).toBe(1000);
  });
});

describe('content the server refuses as such', () => {
  const http = (statusCode: number, errcode?: string) =>
    Object.assign(new Error(errcode ?? String(statusCode)), { statusCode, errcode });

  it('is bad JSON, too large for the server, or too large for this client', () => {
    expect(refusedContent(http(400, 'M_BAD_JSON'))).toBe(true);
    expect(refusedContent(http(400, 'M_NOT_JSON'))).toBe(true);
    expect(refusedContent(http(413, 'M_TOO_LARGE'))).toBe(true);
    expect(refusedContent(http(413))).toBe(true);
    expect(refusedContent(new EventTooLargeError(70_000))).toBe(true);
  });

  it('is not any other bad input raised while sending, nor a failure of the moment', () => {
    expect(refusedContent(new BadInputError('a bug in building the content'))).toBe(false);
    expect(refusedContent(http(429, 'M_LIMIT_EXCEEDED'))).toBe(false);
    expect(refusedContent(http(502))).toBe(false);
    expect(refusedContent(new Error('ECONNRESET'))).toBe(false);
  });
});

describe('failures of the moment on the way to the homeserver', () => {
  /** An error as the HTTP clients raise it: a system or library code, no status. */
  const netError = (code: string) => Object.assign(new Error(code), { code });

  // matrix-bot-sdk's `request` reports an answer that never came within its 60 s as
  // ESOCKETTIMEDOUT; a resolver that cannot answer right now says EAI_AGAIN; fetch (media)
  // reports its own timeouts with UND_ERR_* codes. Given up at once, a send that did land
  // would be sent again later under a new transaction id: the room would get it twice.
  it.each([
    'ESOCKETTIMEDOUT',
    'EAI_AGAIN',
    'ENETUNREACH',
    'EHOSTUNREACH',
    'UND_ERR_CONNECT_TIMEOUT',
    'UND_ERR_HEADERS_TIMEOUT',
    'UND_ERR_BODY_TIMEOUT',
  ])('tries again after %s, with the same request', async (code) => {
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw netError(code);
        return 'sent';
      },
      { baseDelayMs: 1 },
    );
    expect(result).toBe('sent');
    expect(calls).toBe(3);
  });

  it('does not try again after an error that says the address is wrong', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw netError('ENOTFOUND');
        },
        { baseDelayMs: 1 },
      ),
    ).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(calls).toBe(1);
  });
});
