/**
 * Media through the node's Matrix client on the real Synapse: an upload comes back whole
 * under the cap, a file over the cap is refused, a missing one is a typed 404.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../src/errors/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { createBotSdkClient } from '../../../src/matrix/bot-sdk-client.ts';
import { MediaHttpError } from '../../../src/matrix/media.ts';
import { registerUser, testHomeserver } from '../../support/homeserver.ts';

async function botClient() {
  const user = await registerUser('media');
  const dir = mkdtempSync(join(tmpdir(), 'meshbot-media-'));
  return createBotSdkClient({
    homeserverUrl: testHomeserver().url,
    accessToken: user.accessToken,
    storageFile: join(dir, 'sync.json'),
    logger: silentLogger,
  });
}

describe('media on the test homeserver', () => {
  it('downloads an upload whole, and refuses it under a smaller cap', async () => {
    const client = await botClient();
    const bytes = new Uint8Array(300_000).map((_, i) => (i * 7) % 251);
    const mxc = await client.upload(bytes, 'application/vnd.ipld.car');
    expect(mxc).toMatch(/^mxc:\/\//);

    const back = await client.download(mxc, bytes.byteLength);
    expect(Buffer.from(back).equals(Buffer.from(bytes))).toBe(true);

    const err = await client.download(mxc, 100_000).catch((e) => e);
    expect(err).toBeInstanceOf(BadInputError);
    expect(err.message).toBe(`media ${mxc} is larger than 100000 bytes`);
  });

  it('answers a missing file with a typed 404', async () => {
    const client = await botClient();
    const mxc = `mxc://${testHomeserver().serverName}/NoSuchMediaHere`;
    const err = await client.download(mxc, 1000).catch((e) => e);
    expect(err).toBeInstanceOf(MediaHttpError);
    expect(err.statusCode).toBe(404);
    expect(err.errcode).toBe('M_NOT_FOUND');
  });
});
