/**
 * `meshbot init` with every answer given as a flag: it logs in, and writes the homeserver to
 * the config as it asked it, without the trailing slash a URL copied from a browser has.
 */
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { initCommand } from '../../../src/cli/init.ts';

describe('meshbot init', () => {
  afterEach(() => vi.restoreAllMocks());

  it('logs in at /_matrix/… and writes the homeserver URL without a trailing slash', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-init-'));
    const urls: string[] = [];
    vi.spyOn(globalThis, 'fetch').mockImplementation(async (input) => {
      urls.push(String(input));
      const body = { user_id: '@bot:example.org', access_token: 'syt_t', device_id: 'D' };
      return new Response(JSON.stringify(body), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    });
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const config = join(dir, 'meshbot.json');
    await initCommand.handler({
      homeserver: 'https://matrix.example.org/',
      user: '@bot:example.org',
      password: 'pw',
      owner: '@alice:example.org',
      config,
      start: false,
      _: [],
      $0: 'meshbot',
    });
    expect(urls).toEqual(['https://matrix.example.org/_matrix/client/v3/login']);
    const written = JSON.parse(await readFile(config, 'utf8'));
    expect(written.homeserver.url).toBe('https://matrix.example.org');
    expect((await readFile(join(dir, 'bot-token.txt'), 'utf8')).trim()).toBe('syt_t');
  });

  it('refuses a bad --owner or --homeserver before it logs in, and writes nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-init-'));
    const fetch = vi.spyOn(globalThis, 'fetch').mockImplementation(async () => {
      const body = { user_id: '@bot:example.org', access_token: 'syt_t', device_id: 'D' };
      return new Response(JSON.stringify(body), { status: 200 });
    });
    const run = (homeserver: string, owner: string) =>
      initCommand.handler({
        ...{ homeserver, owner, user: 'bot', password: 'pw' },
        ...{ config: join(dir, 'meshbot.json'), start: false, _: [], $0: 'meshbot' },
      });
    await expect(run('https://matrix.example.org', 'alice')).rejects.toThrow(
      '--owner: a Matrix user id like @alice:example.org',
    );
    await expect(run('matrix.example.org', '@alice:example.org')).rejects.toThrow(
      '--homeserver: an http or https URL',
    );
    expect(fetch).not.toHaveBeenCalled();
    expect(await readdir(dir)).toEqual([]);
  });

  it('gives up on a homeserver that takes the connection and never answers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-init-'));
    const timeout = AbortSignal.timeout.bind(AbortSignal);
    const asked: number[] = [];
    vi.spyOn(AbortSignal, 'timeout').mockImplementation((ms) => {
      asked.push(ms);
      return timeout(20);
    });
    vi.spyOn(globalThis, 'fetch').mockImplementation(
      (_input, init) =>
        new Promise((_resolve, reject) => {
          const signal = init?.signal;
          if (!signal) return reject(new TypeError('fetch failed: no signal, it would hang'));
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
    );
    await expect(
      initCommand.handler({
        ...{ homeserver: 'http://127.0.0.1:8008', owner: '@alice:example.org' },
        ...{ user: 'bot', password: 'pw', config: join(dir, 'meshbot.json') },
        ...{ start: false, _: [], $0: 'meshbot' },
      }),
    ).rejects.toThrow('could not log in as bot: no answer from http://127.0.0.1:8008 within 30 s');
    expect(asked).toEqual([30_000]);
  });
});
