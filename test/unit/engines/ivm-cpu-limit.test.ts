/**
 * isolated-vm's CPU limit is a clock (the `timeout` of a call into the isolate), which runs
 * on while the machine gives the CPU to other work: a task that ran out of it having used
 * clearly less CPU than its limit is told as a wall-type timeout, which a retry may mend,
 * with the CPU it got; one that used its limit is out of CPU time, on any node.
 */
import { describe, expect, it } from 'vitest';
import { toEngineError } from '../../../src/engines/ivm/dispatch.ts';
import { cpuTimeout } from '../../../src/engines/ivm/limits.ts';

const LIMITS = { memoryMb: 32, cpuMs: 500, wallMs: 5000, maxOutputBytes: 1024 };
const TIMED_OUT = 'Error: Script execution timed out.';
const asError = (usedMs: number | undefined) =>
  toEngineError('slow', cpuTimeout(LIMITS.cpuMs, usedMs, TIMED_OUT), LIMITS, []);

describe("isolated-vm's CPU limit", () => {
  it('is out of CPU time, for good, when the task used about its whole limit', () => {
    for (const used of [500, 499, 451, 250, 620]) {
      expect(cpuTimeout(500, used, TIMED_OUT)).toEqual({
        code: 'ENGINE_TIMEOUT',
        limit: 'cpu',
        message: TIMED_OUT,
      });
    }
    const err = asError(300);
    expect(err).toMatchObject({ code: 'ENGINE_TIMEOUT', limit: 'cpu', retryable: false });
    expect(err.userMessage).toBe('slow ran out of CPU time (limit 500 ms)');
  });

  it('is out of CPU time when the CPU used cannot be read (the isolate is gone)', () => {
    expect(cpuTimeout(500, undefined, TIMED_OUT)).toMatchObject({ limit: 'cpu' });
  });

  it('is a wall-type timeout, to retry, telling the CPU it got, when it used clearly less', () => {
    expect(cpuTimeout(500, 12.4, TIMED_OUT)).toEqual({
      code: 'ENGINE_TIMEOUT',
      limit: 'wall',
      message: TIMED_OUT,
      cpuUsedMs: 12.4,
    });
    const err = asError(12.4);
    expect(err).toMatchObject({ code: 'ENGINE_TIMEOUT', limit: 'wall', retryable: true });
    expect(err.userMessage).toBe(
      'slow ran out of time: it got 12 ms of CPU in its 500 ms CPU time window (the machine was busy)',
    );
    expect(err.message).toBe(
      'slow: CPU time window of 500 ms ran out with 12 ms of CPU used (a busy machine)',
    );
  });

  it('keeps a wall timeout as it was', () => {
    const err = toEngineError(
      'slow',
      { code: 'ENGINE_TIMEOUT', limit: 'wall', message: 'x' },
      LIMITS,
      [],
    );
    expect(err).toMatchObject({ limit: 'wall', retryable: true });
    expect(err.userMessage).toBe('slow ran out of time (limit 5000 ms)');
  });
});
