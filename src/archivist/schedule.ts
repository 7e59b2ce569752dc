import type { Logger } from '../log/logger.ts';
import type { GcResult } from './gc.ts';

export interface GcScheduleOptions {
  /**
   * Minutes from the end of one collection to the start of the next (the first: this long
   * after start, once the node's rooms are open and have asked for heads). 0: never.
   */
  intervalMinutes: number;
}

export interface GcScheduleDeps {
  /** One collection; null when the node keeps nothing to collect. */
  collect(opts: { signal: AbortSignal }): Promise<GcResult | null>;
  log: Logger;
  options: GcScheduleOptions;
  /** Aborted when the node stops: the schedule stops with it. */
  signal?: AbortSignal;
}

/**
 * Collects a running node's garbage now and then. One collection at a time: the next is armed
 * only when one ends, and `run()` during one joins it. `stop()` aborts the one running and
 * resolves once it has ended, so the store is never closed under it.
 */
export class GcSchedule {
  readonly #d: GcScheduleDeps;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<GcResult | null> | undefined;
  #abort: AbortController | undefined;
  #started = false;
  #stopping: Promise<void> | undefined;

  constructor(d: GcScheduleDeps) {
    this.#d = d;
    d.signal?.addEventListener('abort', () => void this.stop(), { once: true });
  }

  start(): void {
    if (this.#started || this.#stopping || this.#d.options.intervalMinutes <= 0) return;
    this.#started = true;
    this.#arm();
  }

  /** Collects now, or joins the collection running; rejects with what made it fail. */
  run(): Promise<GcResult | null> {
    if (this.#running) return this.#running;
    if (this.#stopping) return Promise.resolve(null);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const abort = new AbortController();
    this.#abort = abort;
    const running = this.#d.collect({ signal: abort.signal }).finally(() => {
      this.#running = undefined;
      this.#abort = undefined;
      this.#arm();
    });
    this.#running = running;
    return running;
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#abort?.abort(new Error('node stopping'));
      await this.#running?.catch(() => {});
    })();
    return this.#stopping;
  }

  #arm(): void {
    if (!this.#started || this.#stopping || this.#timer || this.#running) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.run().catch((err: unknown) => {
        // A collection cut short by the node's stop is no failure.
        if (this.#stopping) return;
        this.#d.log.warn('garbage collection failed; trying again at the next interval', { err });
      });
    }, this.#d.options.intervalMinutes * 60_000);
    this.#timer.unref?.();
  }
}
