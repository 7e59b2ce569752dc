/**
 * Addresses in the config are checked when it is read, naming their key: a bad one otherwise
 * passes and the node fails at start inside matrix-bot-sdk or libp2p, naming no setting.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.ts';

const base = {
  homeserver: { url: 'http://127.0.0.1:8008', accessToken: 'syt_x' },
  owner: '@alice:example.org',
};
const withUrl = (url: string) => parseConfig({ ...base, homeserver: { url, accessToken: 'x' } });
const withListen = (listen: unknown[]) => parseConfig({ ...base, lattice: { listen } });

describe('addresses in the config', () => {
  it('homeserver.url is an http or https URL', async () => {
    for (const url of [
      'ftp://matrix.org',
      'javascript:alert(1)',
      'file:///etc/passwd',
      'matrix.org',
    ]) {
      await expect(withUrl(url)).rejects.toMatchObject({
        code: 'CONFIG',
        message: expect.stringContaining('homeserver.url: an http or https URL'),
      });
    }
    expect((await withUrl('https://matrix.org')).homeserver.url).toBe('https://matrix.org');
    expect((await withUrl('http://127.0.0.1:8008')).homeserver.url).toBe('http://127.0.0.1:8008');
  });

  it('lattice.listen holds TCP multiaddrs libp2p can listen on', async () => {
    const good = ['/ip4/0.0.0.0/tcp/4011', '/ip4/127.0.0.1/tcp/0', '/ip6/::/tcp/4011'];
    expect((await withListen(good)).lattice.listen).toEqual(good);
    expect((await withListen(['/dns4/localhost/tcp/4011'])).lattice.listen).toHaveLength(1);
    const bad = [
      '/ip4/0.0.0.0/tcp/notaport',
      '/ip4/0.0.0.0/tcp/70000',
      '/ip4/999.0.0.1/tcp/4011',
      '/ip4/0.0.0.0',
      '/ip4/0.0.0.0/udp/4011',
      '/ip4/0.0.0.0/tcp/4011/ws',
      '/',
      'ip4/0.0.0.0/tcp/4011',
    ];
    for (const addr of bad) {
      await expect(withListen(['/ip4/0.0.0.0/tcp/4011', addr])).rejects.toMatchObject({
        code: 'CONFIG',
        message: expect.stringContaining(`lattice.listen[1]: ${addr}: `),
      });
    }
  });
});
