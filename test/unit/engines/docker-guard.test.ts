/**
 * The watch over a running container: an abort that came before the watch began (while the
 * container was being created) still stops it.
 */
import type Docker from 'dockerode';
import { describe, expect, it, vi } from 'vitest';
import { diskWatch, guardContainer } from '../../../src/engines/docker/guard.ts';
import { volumePath, volumesRefusal } from '../../../src/engines/docker/spec.ts';

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

  it("says the disk is low once free space falls under half of the run's start, at most 1 GiB", async () => {
    const GiB = 1024 ** 3;
    let free = 10 * GiB;
    const watch = diskWatch('/x', async () => ({ bavail: free / 4096, bsize: 4096 }));
    expect(await watch.low()).toBe(false);
    free = 2 * GiB;
    expect(await watch.low()).toBe(false);
    free = GiB - 4096;
    expect(await watch.low()).toBe(true);
    // On a disk with little free at the start, half of that.
    free = GiB;
    const small = diskWatch('/x', async () => ({ bavail: free / 4096, bsize: 4096 }));
    expect(await small.low()).toBe(false);
    free = GiB / 2 - 4096;
    expect(await small.low()).toBe(true);
  });
});

describe("an image's declared volumes", () => {
  it('are read as Docker mounts them', () => {
    expect(volumePath('/data/')).toBe('/data');
    expect(volumePath('/tmp/../data2')).toBe('/data2');
    expect(volumePath('/')).toBe('/');
  });

  it('may not sit inside the input or output folder, nor be /', () => {
    expect(volumesRefusal(['/data', '/meshbot', '/meshbot/out', '/meshbot/data'])).toBeUndefined();
    expect(volumesRefusal(['/meshbot/out/sub'])).toContain('inside /meshbot/out');
    expect(volumesRefusal(['/meshbot/in/x/'])).toContain('inside /meshbot/in');
    expect(volumesRefusal(['/'])).toBe('its image declares / as a volume');
  });
});
