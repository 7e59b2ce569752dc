/**
 * The sandbox process's memory keeper, against a fake pool and a scripted resident memory:
 * it drops the warm realms only past its budget, and `settle` waits for their memory to leave
 * before it resolves, but not for ever.
 */
import { describe, expect, it } from 'vitest';
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
    await settling;
    expect(mem.held()).toBeLessThanOrEqual(256);
    // It stopped reading once the memory was under the budget.
    expect(mem.held()).toBeGreaterThan(100);
  });

  it('stops waiting once the memory stops falling', async () => {
    const fake = fakePool();
    // Falls to 400 MiB and stays: what is left is not the realms'.
    const mem = releasing(fake, 740, 400, 100);
    const keeper = createMemoryKeeper({ pool: fake.pool, warmBytes: 256 * MiB, rss: mem.rss });
    const started = performance.now();
    await keeper.settle(later(10_000));
    const waited = performance.now() - started;
    expect(mem.held()).toBe(400);
    expect(waited).toBeGreaterThanOrEqual(190);
    expect(waited).toBeLessThan(1500);
  });

  it('stops waiting at the deadline', async () => {
    const fake = fakePool();
    // Falls slowly and steadily, never below the budget in time.
    const mem = releasing(fake, 2000, 0, 2);
    const keeper = createMemoryKeeper({ pool: fake.pool, warmBytes: 256 * MiB, rss: mem.rss });
    const started = performance.now();
    await keeper.settle(later(60));
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(55);
    expect(waited).toBeLessThan(1000);
    expect(mem.held()).toBeGreaterThan(256);
  });
});
