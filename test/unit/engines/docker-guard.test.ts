/**
 * The watch over a running container: an abort that came before the watch began (while the
 * container was being created) still stops it.
 */
import type Docker from 'dockerode';
import { describe, expect, it, vi } from 'vitest';
import { guardContainer } from '../../../src/engines/docker/guard.ts';

describe('the container guard', () => {
  it('stops at once for a signal that was aborted before it began', () => {
    const kill = vi.fn(async () => {});
    const container = { kill } as unknown as Docker.Container;
    const opts = {
      wallMs: 60_000,
      maxOutputBytes: 1024,
      outDir: '/nonexistent',
      watchEveryMs: 60_000,
    };
    const guard = guardContainer(container, opts, AbortSignal.abort());
    try {
      expect(guard.stopped).toBe('abort');
      expect(kill).toHaveBeenCalledWith({ signal: 'SIGKILL' });
    } finally {
      guard.dispose();
    }
  });
});
