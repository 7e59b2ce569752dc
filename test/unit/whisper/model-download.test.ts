/**
 * A model source's URL may carry credentials (a user and password, a token in its query):
 * what a failed download says, which reaches the log and the room, never shows them.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromUrl, shownUrl } from '../../../src/whisper/model-download.ts';

const URL_WITH_SECRETS =
  'https://me:hunter2pass@models.example.org/ggml-base.bin?token=tk_s3cr3t&v=2';

describe('a model download URL in messages', () => {
  it('loses its user, password and query values', () => {
    expect(shownUrl(URL_WITH_SECRETS)).toBe(
      'https://models.example.org/ggml-base.bin?token=%E2%80%A6&v=%E2%80%A6',
    );
  });

  it('does not show them when the download fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-model-dl-'));
    try {
      const refusing = (async () => new Response('no', { status: 403 })) as typeof fetch;
      const failed = await fromUrl(refusing, URL_WITH_SECRETS, join(dir, 'model'), {
        signal: new AbortController().signal,
        maxBytes: 1024,
        onBytes: () => {},
      }).then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      expect(failed?.message).toContain('answered HTTP 403');
      expect(failed?.message).not.toContain('hunter2pass');
      expect(failed?.message).not.toContain('tk_s3cr3t');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
