/**
 * A node stops by its signal (Bot.stop aborts it): every interval of its roles ends with it,
 * the worker's lease renewals among them.
 */
import { afterEach, expect, it, vi } from 'vitest';
import { fakeNode } from '../../support/fake-node.ts';

afterEach(() => {
  vi.useRealTimers();
});

it('leaves no interval behind once the node is stopped', async () => {
  vi.useFakeTimers();
  const n = await fakeNode({ self: '@me:hs', members: ['@alice:hs'] });
  const stop = new AbortController();
  (n.f.ctx as { signal: AbortSignal }).signal = stop.signal;
  await n.node.start();
  expect(vi.getTimerCount()).toBeGreaterThan(0);
  stop.abort(new Error('node stopping'));
  await vi.advanceTimersByTimeAsync(120_000);
  expect(vi.getTimerCount()).toBe(0);
});
