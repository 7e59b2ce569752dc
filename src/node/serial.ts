import type { Logger } from '../log/logger.ts';

/**
 * Runs jobs one after another, off the caller's path. Room event handlers use it for work
 * that may wait on the network: the sync loop awaits handlers, and blocks asked for in the
 * room can only arrive through a later sync, so waiting inside a handler would deadlock.
 */
export class Serial {
  #tail: Promise<void> = Promise.resolve();
  readonly #log: Logger;
  readonly #what: string;

  constructor(log: Logger, what: string) {
    this.#log = log;
    this.#what = what;
  }

  /** Queues a job; its failure is logged, never thrown at the caller. */
  push(job: () => Promise<void>): void {
    this.#tail = this.#tail.then(job).catch((err: unknown) => {
      this.#log.error(`${this.#what} failed`, { err });
    });
  }

  /** Runs a job exclusively and returns its result to the caller. */
  exclusive<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(job);
    this.#tail = run.then(
      () => {},
      () => {},
    );
    return run;
  }

  /** Resolves when every job queued so far has finished. */
  idle(): Promise<void> {
    return this.#tail;
  }
}
