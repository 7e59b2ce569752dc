/**
 * The start/stop state machine both runtimes share. A start while one is on its way joins
 * it; a start during a stop waits for the stop, then starts; a stop during a start waits for
 * the start to settle, then stops what started (and a start asked for after that stop comes
 * after it). A start that fails leaves the runtime stopped, and so does a stop that fails.
 */
type State = 'stopped' | 'starting' | 'started' | 'stopping';

export class Lifecycle {
  #state: State = 'stopped';
  #transition: Promise<void> | undefined;
  /** A stop asked for during a start, waiting for it: a start asked for later comes after it. */
  #stopAfterStart: Promise<void> | undefined;

  get started(): boolean {
    return this.#state === 'started';
  }

  /** Runs `up` unless the runtime is started or starting. */
  async start(up: () => Promise<void>): Promise<void> {
    if (this.#stopAfterStart) {
      await this.#stopAfterStart.catch(() => {});
      return this.start(up);
    }
    if (this.#state === 'started') return;
    if (this.#state === 'starting') return this.#transition;
    if (this.#state === 'stopping') {
      await this.#transition?.catch(() => {});
      // Another caller may have started it meanwhile.
      return this.start(up);
    }
    this.#state = 'starting';
    this.#transition = up().then(
      () => {
        this.#state = 'started';
      },
      (err: unknown) => {
        this.#state = 'stopped';
        throw err;
      },
    );
    return this.#transition;
  }

  /** Runs `down` unless the runtime is stopped or stopping; its synchronous part runs at once
   * when the runtime is started. */
  async stop(down: () => Promise<void>): Promise<void> {
    if (this.#state === 'stopped') return;
    if (this.#state === 'stopping') return this.#transition;
    if (this.#state === 'starting') {
      if (this.#stopAfterStart) return this.#stopAfterStart;
      const starting = this.#transition;
      const stopping = (async () => {
        await starting?.catch(() => {});
        this.#stopAfterStart = undefined;
        return this.stop(down);
      })();
      this.#stopAfterStart = stopping;
      return stopping;
    }
    this.#state = 'stopping';
    this.#transition = down().finally(() => {
      this.#state = 'stopped';
    });
    return this.#transition;
  }
}
