/**
 * The sandbox process's memory keeper, against a fake pool and a scripted resident memory:
 * it drops the warm realms only past its budget, and `settle` waits for their memory to leave
 * before it resolves, but not for ever.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryKeeper } from '../../../src/engines/ivm/memory-keeper.ts';
import type { RealmPool } from '../../../src/engines/ivm/realm-pool.ts';

const MiB = 1024 * 1024;

function fakePool() {
  let clears = 0;
  const pool = {
    take: () => undefined,
    create: () => Promise.reject(new Error('not in this test')),
    release: () => {},
    tidy: () => {},
    clear: () => {
      clears++;
    },
  } satisfies RealmPool;
  return { pool, clears: () => clears };
}

/** A resident memory that starts at `from` MiB and, once the pool is cleared, moves by `step`
 * MiB per read down to `to`. */
function releasing(fake: ReturnType<typeof fakePool>, from: number, to: number, step: number) {
  let held = from;
  let reads = 0;
  const rss = () => {
    reads++;
    if (fake.clears() > 0) held = Math.max(to, held - step);
    return held * MiB;
  };
  return { rss, reads: () => reads, held: () => held };
}

const later = (ms: number) => performance.now() + ms;

// The keeper's clock (performance.now, setTimeout) is faked: how long it waits is checked by
// that clock, exactly, whatever the load of the machine.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Runs `settle` to its end on the fake clock; how long it waited by that clock. */
async function timed(settling: Promise<void> | undefined): Promise<number> {
  const started = performance.now();
  let done = false;
  void settling?.then(() => {
    done = true;
  });
  while (!done) await vi.advanceTimersByTimeAsync(1);
  return performance.now() - started;
}

describe('memory keeper', () => {
  it('keeps the warm realms while the process is within its budget', () => {
    const fake = fakePool();
    const mem = releasing(fake, 200, 200, 0);
    const keeper = createMemoryKeeper({ pool: fake.pool, warmBytes: 256 * MiB, rss: mem.rss });
    expect(keeper.trim()).toBe(false);
    expect(keeper.settle(later(10_000))).toBeUndefined();
    expect(fake.clears()).toBe(0);
  });

  it('drops them past it, and settles once their memory has left', async () => {
    const fake = fakePool();
    const mem = releasing(fake, 740, 100, 60);
    const keeper = createMemoryKeeper({ pool: fake.pool, warmBytes: 256 * MiB, rss: mem.rss });
    const settling = keeper.settle(later(10_000));
    expect(settling).toBeInstanceOf(Promise);
    expect(fake.clears()).toBe(1);
    await timed(settling);
    expect(mem.held()).toBeLessThanOrEqual(256);
    // It stopped reading once the memory was under the budget.
    expect(mem.held()).toBeGreaterThan(100);
  });

  it('stops waiting once the memory stops falling', async () => {
    const fake = fakePool();
    // Falls to 400 MiB and stays: what is left is not the realms'.
    const mem = releasing(fake, 740, 400, 100);
    const keeper = createMemoryKeeper({ pool: fake.pool, warmBytes: 256 * MiB, rss: mem.rss });
    const waited = await timed(keeper.settle(later(10_000)));
    expect(mem.held()).toBe(400);
    // It fell for 4 reads of 5 ms, then waited the 200 ms of a stall: far from its 1 s cap.
    expect(waited).toBeGreaterThanOrEqual(200);
    expect(waited).toBeLessThanOrEqual(230);
  });

  it('stops waiting at the deadline', async () => {
    const fake = fakePool();
    // Falls slowly and steadily, never below the budget in time.
    const mem = releasing(fake, 2000, 0, 2);
    const keeper = createMemoryKeeper({ pool: fake.pool, warmBytes: 256 * MiB, rss: mem.rss });
    const waited = await timed(keeper.settle(later(60)));
    expect(waited).toBeGreaterThanOrEqual(60);
    expect(waited).toBeLessThanOrEqual(65);
    expect(mem.held()).toBeGreaterThan(256);
  });
});
