import { z } from 'zod';

/**
 * The longest delay a Node timer honours (2^31 - 1 ms, about 24.8 days). One set longer fires
 * after 1 ms with a TimeoutOverflowWarning: a heartbeat period past it would send a state
 * event every millisecond, and a timeout past it would abort at once.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** A setting in ms that ends up as a timer's delay (setTimeout, setInterval, AbortSignal.timeout). */
export const timerMs = z
  .number()
  .int()
  .nonnegative()
  .max(MAX_TIMER_MS, `at most ${MAX_TIMER_MS} ms (about 24.8 days): a Node timer waits no longer`);
