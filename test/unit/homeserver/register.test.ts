/** Logging in asks the homeserver at its API path, however its URL was written. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { homeserverBase, loginUser } from '../../../src/homeserver/register.ts';

/** Answers every request as a successful login, and records the URLs asked. */
function fakeLogin(): string[] {
  const urls: string[] = [];
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
    urls.push(String(input));
    const body = { user_id: '@bot:example.org', access_token: 't', device_id: 'D' };
    return new Response(JSON.stringify(body), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    });
  });
  return urls;
}

describe('homeserver login', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a URL copied from a browser (trailing slash) is not asked at //_matrix/…', async () => {
    const urls = fakeLogin();
    await loginUser('https://matrix.example.org/', 'bot', 'pw');
    await loginUser('https://matrix.example.org//', 'bot', 'pw');
    await loginUser('https://example.org/matrix/', 'bot', 'pw');
    expect(urls).toEqual([
      'https://matrix.example.org/_matrix/client/v3/login',
      'https://matrix.example.org/_matrix/client/v3/login',
      'https://example.org/matrix/_matrix/client/v3/login',
    ]);
  });

  it('homeserverBase drops trailing slashes and spaces only', () => {
    expect(homeserverBase(' https://matrix.org/ ')).toBe('https://matrix.org');
    expect(homeserverBase('http://127.0.0.1:8008')).toBe('http://127.0.0.1:8008');
    expect(homeserverBase('https://example.org/matrix//')).toBe('https://example.org/matrix');
  });

  it('a refused connection is named by its cause, not only as "fetch failed"', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
      code: 'ECONNREFUSED',
    });
    vi.spyOn(globalThis, 'fetch').mockRejectedValue(
      new TypeError('fetch failed', { cause: refused }),
    );
    await expect(loginUser('http://127.0.0.1:9', 'bot', 'pw')).rejects.toThrow(
      'POST http://127.0.0.1:9/_matrix/client/v3/login failed: connect ECONNREFUSED 127.0.0.1:9',
    );
  });
});
