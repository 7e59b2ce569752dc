/**
 * The running node's garbage collection schedule: every `archive.gcIntervalMinutes`, one
 * collection at a time, none after the node stops, and the one running when it stops is
 * aborted and awaited.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { GcResult } from '../../../src/archivist/gc.ts';
import { GcSchedule } from '../../../src/archivist/schedule.ts';
import { createLogger } from '../../../src/log/logger.ts';

const MINUTE = 60_000;
const freed: GcResult = { deleted: 3, bytes: 300, marked: 10, inUse: 0 };

/** A collection that ends when the test says so (or when it is aborted). */
function controlled() {
  const runs: { signal: AbortSignal; end: (r?: GcResult) => void; fail: (e: Error) => void }[] = [];
  let inFlight = 0;
  let most = 0;
  const collect = ({ signal }: { signal: AbortSignal }) =>
    new Promise<GcResult | null>((resolve, reject) => {
      inFlight++;
      most = Math.max(most, inFlight);
      const settle = () => inFlight--;
      signal.addEventListener('abort', () => {
        settle();
        reject(signal.reason);
      });
      runs.push({
        signal,
        end: (r = freed) => {
          settle();
          resolve(r);
        },
        fail: (e) => {
          settle();
          reject(e);
        },
      });
    });
  return { collect, runs, most: () => most };
}

function schedule(
  collect: (o: { signal: AbortSignal }) => Promise<GcResult | null>,
  intervalMinutes = 10,
  signal?: AbortSignal,
) {
  const logs: string[] = [];
  const log = createLogger({ level: 'debug', write: (l) => logs.push(l) });
  return { gc: new GcSchedule({ collect, log, options: { intervalMinutes }, signal }), logs };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the GC schedule', () => {
  it('collects one interval after start, then one interval after each collection ends', async () => {
    const c = controlled();
    const { gc } = schedule(c.collect);
    gc.start();
    gc.start(); // idempotent
    await vi.advanceTimersByTimeAsync(10 * MINUTE - 1);
    expect(c.runs).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(c.runs).toHaveLength(1);
    // A long collection: no second one starts while it runs, however long it takes.
    await vi.advanceTimersByTimeAsync(25 * MINUTE);
    expect(c.runs).toHaveLength(1);
    c.runs[0]?.end();
    await vi.advanceTimersByTimeAsync(10 * MINUTE - 1);
    expect(c.runs).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(c.runs).toHaveLength(2);
    c.runs[1]?.end();
    await gc.stop();
    expect(c.most()).toBe(1);
  });

  it('joins the collection running when asked for one, and counts the wait from its end', async () => {
    const c = controlled();
    const { gc } = schedule(c.collect);
    gc.start();
    const asked = gc.run();
    expect(gc.run()).toBe(asked);
    await vi.advanceTimersByTimeAsync(10 * MINUTE);
    expect(c.runs).toHaveLength(1);
    c.runs[0]?.end();
    await expect(asked).resolves.toEqual(freed);
    await vi.advanceTimersByTimeAsync(10 * MINUTE);
    expect(c.runs).toHaveLength(2);
    expect(c.most()).toBe(1);
    c.runs[1]?.end();
    await gc.stop();
  });

  it('aborts the collection running at stop, waits for it to end, and starts none after', async () => {
    const c = controlled();
    const { gc, logs } = schedule(c.collect);
    gc.start();
    await vi.advanceTimersByTimeAsync(10 * MINUTE);
    expect(c.runs).toHaveLength(1);
    let stopped = false;
    const stopping = gc.stop().then(() => {
      stopped = true;
    });
    expect(c.runs[0]?.signal.aborted).toBe(true);
    await stopping;
    expect(stopped).toBe(true);
    expect(gc.stop()).toBe(gc.stop());
    await vi.advanceTimersByTimeAsync(60 * MINUTE);
    expect(c.runs).toHaveLength(1);
    await expect(gc.run()).resolves.toBeNull();
    gc.start();
    await vi.advanceTimersByTimeAsync(60 * MINUTE);
    expect(c.runs).toHaveLength(1);
    // Cut short by the stop, it is no failure.
    expect(logs.filter((l) => l.includes('"warn"'))).toEqual([]);
  });

  it("stops with the node's signal", async () => {
    const c = controlled();
    const node = new AbortController();
    const { gc } = schedule(c.collect, 10, node.signal);
    gc.start();
    await vi.advanceTimersByTimeAsync(10 * MINUTE);
    node.abort(new Error('node stopping'));
    expect(c.runs[0]?.signal.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(60 * MINUTE);
    expect(c.runs).toHaveLength(1);
  });

  it('logs a failed collection and tries again at the next interval', async () => {
    const c = controlled();
    const { gc, logs } = schedule(c.collect);
    gc.start();
    await vi.advanceTimersByTimeAsync(10 * MINUTE);
    c.runs[0]?.fail(new Error('disk unhappy'));
    await vi.advanceTimersByTimeAsync(0);
    expect(logs.some((l) => l.includes('garbage collection failed') && l.includes('disk'))).toBe(
      true,
    );
    await vi.advanceTimersByTimeAsync(10 * MINUTE);
    expect(c.runs).toHaveLength(2);
    c.runs[1]?.end();
    await gc.stop();
  });

  it('never collects by itself at an interval of 0', async () => {
    const c = controlled();
    const { gc } = schedule(c.collect, 0);
    gc.start();
    await vi.advanceTimersByTimeAsync(365 * 24 * 60 * MINUTE);
    expect(c.runs).toHaveLength(0);
    await gc.stop();
  });
});
