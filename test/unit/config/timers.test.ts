/**
 * Settings in ms end up as timers: Node fires one set past 2^31 - 1 ms after 1 ms, so a
 * heartbeat of 2^31 ms would be a 1 ms loop of state events. Every such setting is bounded,
 * and a refusal names its key.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.ts';
import { MAX_TIMER_MS } from '../../../src/config/timer.ts';
import { assignSchema } from '../../../src/protocol/events.ts';
import { leaseSchema } from '../../../src/protocol/manager.ts';

const base = {
  homeserver: { url: 'http://127.0.0.1:8008', accessToken: 'syt_x' },
  owner: '@alice:example.org',
};
const withKey = (section: string, key: string, value: unknown) =>
  parseConfig({ ...base, [section]: { [key]: value } });

/** Every setting that becomes a timer's delay, by section. */
const TIMERS: [string, string][] = [
  ['mesh', 'heartbeatMs'],
  ['mesh', 'ackDelayMs'],
  ['mesh', 'progressAfterMs'],
  ['mesh', 'progressEveryMs'],
  ['limits', 'fetchTimeoutMs'],
  ['lattice', 'announceDelayMs'],
  ['lattice', 'mergeDelayMs'],
  ['lattice', 'answerDelayMs'],
  ['lattice', 'answerIntervalMs'],
  ['lattice', 'mergeTimeoutMs'],
  ['archive', 'reportDelayMs'],
  ['archive', 'warnAfterMs'],
];

describe('timer settings', () => {
  it.each(TIMERS)('%s.%s: refused past 2^31 - 1 ms, naming the key', async (section, key) => {
    expect(MAX_TIMER_MS).toBe(2 ** 31 - 1);
    const cfg = (await withKey(section, key, MAX_TIMER_MS)) as Record<string, unknown>;
    expect((cfg[section] as Record<string, unknown>)[key]).toBe(MAX_TIMER_MS);
    await expect(withKey(section, key, MAX_TIMER_MS + 1)).rejects.toMatchObject({
      code: 'CONFIG',
      message: expect.stringContaining(`${section}.${key}: at most ${MAX_TIMER_MS} ms`),
    });
  });

  it('a lease is at most what other nodes take from its event, so renewals fit a timer too', async () => {
    const cfg = await parseConfig({
      ...base,
      mesh: { leaseMs: 3_600_000, assignmentLeaseMs: 86_400_000 },
    });
    // The lease and assign events this node would send with them are valid on the wire.
    const lease = { holder: '@bot:x', term: 1, leaseMs: cfg.mesh.leaseMs, renewal: 0 };
    expect(leaseSchema.safeParse(lease).success).toBe(true);
    expect(assignSchema.shape.leaseMs.safeParse(cfg.mesh.assignmentLeaseMs).success).toBe(true);
    await expect(withKey('mesh', 'leaseMs', 3_600_001)).rejects.toThrow(/mesh\.leaseMs: at most/);
    await expect(withKey('mesh', 'assignmentLeaseMs', 2 ** 31)).rejects.toThrow(
      /mesh\.assignmentLeaseMs: at most 86400000 ms/,
    );
  });

  // AbortSignal.timeout(0) aborts every merge before its first block arrives.
  it('lattice.mergeTimeoutMs is at least a second', async () => {
    for (const bad of [0, 1, 999]) {
      await expect(withKey('lattice', 'mergeTimeoutMs', bad)).rejects.toThrow(
        /lattice\.mergeTimeoutMs: at least 1000 ms/,
      );
    }
    expect((await withKey('lattice', 'mergeTimeoutMs', 1_000)).lattice.mergeTimeoutMs).toBe(1_000);
    // The delays may be 0 (announce or answer at once): no timeout runs on them.
    expect((await withKey('lattice', 'mergeDelayMs', 0)).lattice.mergeDelayMs).toBe(0);
  });
});
