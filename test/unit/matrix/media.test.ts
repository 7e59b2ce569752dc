/**
 * downloadMedia against a local HTTP server that plays the homeserver's media repository:
 * the cap holds while the bytes arrive, and errors come back typed. The real homeserver's
 * side is in test/integration/matrix/media.test.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BadInputError, MeshError, TimeoutError } from '../../../src/errors/index.ts';
import { downloadMedia, MediaHttpError } from '../../../src/matrix/media.ts';
import { withRetry } from '../../../src/matrix/retry.ts';

const MXC = 'mxc://example.org/abcDEF_123-x';
const TOKEN = 'syt_secret_token';
type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server | undefined;
const requests: { url: string; auth: string | undefined }[] = [];

async function serve(handler: Handler): Promise<{ homeserverUrl: string; accessToken: string }> {
  requests.length = 0;
  server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', auth: req.headers.authorization });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { homeserverUrl: `http://127.0.0.1:${port}/`, accessToken: TOKEN };
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

const json = (res: ServerResponse, status: number, body: object) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

/** Writes 64 KiB chunks until the client goes away; resolves with the bytes written then. */
function endless(res: ServerResponse, headers: Record<string, string> = {}): Promise<number> {
  res.writeHead(200, { 'content-type': 'application/octet-stream', ...headers });
  const chunk = Buffer.alloc(64 * 1024, 7);
  let written = 0;
  return new Promise((resolve) => {
    res.on('close', () => resolve(written));
    const pump = () => {
      while (!res.destroyed && written < 1024 ** 3) {
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
    };
    pump();
  });
}

describe('downloadMedia', () => {
  it('fetches the bytes from the authenticated media path with the bearer token', async () => {
    const source = await serve((_req, res) => res.end(Buffer.from('hello media')));
    const bytes = await downloadMedia(source, MXC, { maxBytes: 100 });
    expect(Buffer.from(bytes).toString()).toBe('hello media');
    expect(requests).toEqual([
      {
        url: '/_matrix/client/v1/media/download/example.org/abcDEF_123-x',
        auth: `Bearer ${TOKEN}`,
      },
    ]);
  });

  it('accepts exactly maxBytes, and an empty file', async () => {
    let body = Buffer.alloc(100, 1);
    const source = await serve((_req, res) => res.end(body));
    expect((await downloadMedia(source, MXC, { maxBytes: 100 })).byteLength).toBe(100);
    body = Buffer.alloc(0);
    expect((await downloadMedia(source, MXC, { maxBytes: 100 })).byteLength).toBe(0);
  });

  it('refuses a declared length over the cap without reading the body', async () => {
    let sent: Promise<number> | undefined;
    const source = await serve((_req, res) => {
      sent = endless(res, { 'content-length': String(1024 ** 3) });
    });
    const err = await downloadMedia(source, MXC, { maxBytes: 1000 }).catch((e) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect(err.message).toBe(`media ${MXC} is larger than 1000 bytes`);
    // The connection is closed: the server stops long before its gigabyte.
    expect(await sent).toBeLessThan(64 * 1024 ** 2);
  });

  it('stops reading an undeclared body as soon as it passes the cap', async () => {
    let sent: Promise<number> | undefined;
    const source = await serve((_req, res) => {
      sent = endless(res);
    });
    const err = await downloadMedia(source, MXC, { maxBytes: 256 * 1024 }).catch((e) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect(await sent).toBeLessThan(64 * 1024 ** 2);
  });

  it('falls back to the v3 path on a server without authenticated media', async () => {
    const source = await serve((req, res) => {
      if (req.url?.startsWith('/_matrix/client/v1/')) {
        json(res, 404, { errcode: 'M_UNRECOGNIZED', error: 'Unrecognized request' });
      } else res.end('old server');
    });
    const bytes = await downloadMedia(source, MXC, { maxBytes: 100 });
    expect(Buffer.from(bytes).toString()).toBe('old server');
    expect(requests.map((r) => r.url)).toEqual([
      '/_matrix/client/v1/media/download/example.org/abcDEF_123-x',
      '/_matrix/media/v3/download/example.org/abcDEF_123-x',
    ]);
  });

  it('reports missing media as a 404 with its errcode, not retried', async () => {
    const source = await serve((_req, res) => json(res, 404, { errcode: 'M_NOT_FOUND' }));
    const err = await withRetry(() => downloadMedia(source, MXC, { maxBytes: 100 })).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(MediaHttpError);
    expect(err.statusCode).toBe(404);
    expect(err.errcode).toBe('M_NOT_FOUND');
    expect(err.message).toBe(`the homeserver answered 404 M_NOT_FOUND for ${MXC}`);
    expect(err.message).not.toContain(TOKEN);
    expect(requests).toHaveLength(1);
  });

  it("waits the rate limit's retry_after_ms from the body", async () => {
    let calls = 0;
    const at: number[] = [];
    const source = await serve((_req, res) => {
      at.push(performance.now());
      if (++calls === 1) json(res, 429, { errcode: 'M_LIMIT_EXCEEDED', retry_after_ms: 400 });
      else res.end('after the wait');
    });
    const bytes = await withRetry(() => downloadMedia(source, MXC, { maxBytes: 100 }), {
      baseDelayMs: 10,
    });
    expect(Buffer.from(bytes).toString()).toBe('after the wait');
    // 400 ms as asked: neither the 1 s default wait nor the 10 ms back-off.
    const gap = (at[1] as number) - (at[0] as number);
    expect(gap).toBeGreaterThanOrEqual(390);
    expect(gap).toBeLessThan(900);
  });

  it('is tried again after a server error and a rate limit', async () => {
    let calls = 0;
    const source = await serve((_req, res) => {
      calls++;
      if (calls === 1) json(res, 502, { errcode: 'M_UNKNOWN' });
      else if (calls === 2) {
        res.setHeader('retry-after', '0.05');
        json(res, 429, { errcode: 'M_LIMIT_EXCEEDED' });
      } else res.end('third time');
    });
    const bytes = await withRetry(() => downloadMedia(source, MXC, { maxBytes: 100 }), {
      baseDelayMs: 10,
    });
    expect(Buffer.from(bytes).toString()).toBe('third time');
    expect(calls).toBe(3);
  });

  it('gives up on a server that drips, at its deadline', async () => {
    const source = await serve((_req, res) => {
      res.writeHead(200);
      const timer = setInterval(() => res.write('x'), 20);
      res.on('close', () => clearInterval(timer));
    });
    const started = performance.now();
    const err = await downloadMedia(source, MXC, { maxBytes: 1000, timeoutMs: 300 }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.message).toBe(`media ${MXC} did not arrive within 300 ms`);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it("ends at the caller's abort", async () => {
    const source = await serve(() => {});
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 50);
    const err = await downloadMedia(source, MXC, { maxBytes: 1000, signal: stop.signal }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(MeshError);
    expect(err.code).toBe('ABORTED');
  });

  it('refuses what is not a media address, before any request', async () => {
    const source = await serve((_req, res) => res.end('x'));
    for (const bad of [
      'https://example.org/a',
      'mxc://example.org/a/../../admin',
      'mxc://example.org/a?b=c',
      'mxc://user@example.org/a',
      'mxc://example.org/',
      'mxc:///abc',
      // Dot segments: the URL parser would resolve them to another endpoint.
      'mxc://../config',
      'mxc://./abc',
      'mxc://..:8448/config',
      'mxc://example..org/abc',
      'mxc://.example.org/abc',
    ]) {
      await expect(downloadMedia(source, bad, { maxBytes: 10 })).rejects.toBeInstanceOf(
        BadInputError,
      );
    }
    expect(requests).toEqual([]);
  });

  it('takes a server name with a port or an IPv6 address', async () => {
    const source = await serve((_req, res) => res.end('ok'));
    await downloadMedia(source, 'mxc://example.org:8448/abc', { maxBytes: 10 });
    await downloadMedia(source, 'mxc://[::1]:8448/abc', { maxBytes: 10 });
    expect(requests.map((r) => r.url)).toEqual([
      '/_matrix/client/v1/media/download/example.org%3A8448/abc',
      '/_matrix/client/v1/media/download/%5B%3A%3A1%5D%3A8448/abc',
    ]);
  });
});
