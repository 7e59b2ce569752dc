/**
 * The runtime's kill timer of last resort: a deadline checked on a tick. It fires once, not
 * before its deadline and at most a tick after; disarming or re-arming cancels; and it holds
 * no timer once nothing is armed. On fake timers, clock and performance.now both.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Watchdog } from '../../../src/engines/child/watchdog.ts';

const TICK = 20;

describe('Watchdog', () => {
  let dog: Watchdog;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    dog = new Watchdog(TICK);
  });
  afterEach(() => {
    dog.stop();
    vi.useRealTimers();
  });

  it('fires once, not before its deadline and at most a tick after', () => {
    const fire = vi.fn();
    dog.arm(50, fire);
    vi.advanceTimersByTime(49);
    expect(fire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(TICK);
    expect(fire).toHaveBeenCalledOnce();
    vi.advanceTimersByTime(10 * TICK);
    expect(fire).toHaveBeenCalledOnce();
  });

  it('calls its tick on each check before the deadline, and none once disarmed', () => {
    const fire = vi.fn();
    const tick = vi.fn();
    const disarm = dog.arm(10 * TICK, fire, tick);
    vi.advanceTimersByTime(3 * TICK);
    expect(tick).toHaveBeenCalledTimes(3);
    disarm();
    vi.advanceTimersByTime(20 * TICK);
    expect(tick).toHaveBeenCalledTimes(3);
    expect(fire).not.toHaveBeenCalled();
  });

  it('does not fire once disarmed', () => {
    const fire = vi.fn();
    const disarm = dog.arm(30, fire);
    vi.advanceTimersByTime(10);
    disarm();
    vi.advanceTimersByTime(30 + 3 * TICK);
    expect(fire).not.toHaveBeenCalled();
  });

  it('a new deadline replaces the one armed before, whose disarm no longer touches it', () => {
    const first = vi.fn();
    const second = vi.fn();
    const disarmFirst = dog.arm(10, first);
    dog.arm(60, second);
    disarmFirst();
    vi.advanceTimersByTime(59);
    expect(second).not.toHaveBeenCalled();
    vi.advanceTimersByTime(TICK);
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledOnce();
  });

  it('holds no timer a tick after its deadline fired or was disarmed', () => {
    dog.arm(10, () => {});
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(TICK);
    expect(vi.getTimerCount()).toBe(0);

    const disarm = dog.arm(1000, () => {});
    disarm();
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(TICK);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps one timer however often it is armed while ticking', () => {
    for (let i = 0; i < 100; i++) dog.arm(1000, () => {})();
    expect(vi.getTimerCount()).toBe(1);
  });

  it('stop disarms and drops its timer at once', () => {
    const fire = vi.fn();
    dog.arm(10, fire);
    dog.stop();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10 + 3 * TICK);
    expect(fire).not.toHaveBeenCalled();
  });

  it('may be armed again from the deadline it fires', () => {
    const second = vi.fn();
    dog.arm(10, () => dog.arm(10, second));
    vi.advanceTimersByTime(TICK);
    expect(second).not.toHaveBeenCalled();
    vi.advanceTimersByTime(2 * TICK);
    expect(second).toHaveBeenCalledOnce();
  });
});
