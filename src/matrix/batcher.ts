import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log/logger.ts';
import { RefusalIsolation } from './refusal.ts';
import { refusedContent } from './retry.ts';

export interface BatcherOptions<T> {
  /** Sends one batch as one event; a throw means "try this batch again later". */
  send: (items: T[]) => Promise<void>;
  /** Most items in one event. */
  maxItems: number;
  /** Most JSON bytes of items in one event (events are capped at 64 KiB). Default 40 000. */
  maxBytes?: number;
  log: Logger;
  /** Named in log lines. */
  what: string;
  /** Stops retrying when aborted; items not sent are then dropped (see also close()). */
  signal: AbortSignal;
  /** First wait after a failed send, ms; doubles up to 30 s. Default 1000. */
  retryDelayMs?: number;
}

interface Pending<T> {
  item: T;
  size: number;
  done: () => void;
}

/**
 * Sends items as few events as possible (invariant 7): while one event is on its way — or
 * waits out a rate limit — new items gather for the next one. A batch that fails is sent
 * again until it goes through or the node stops, so nothing handed over is lost — except
 * content the server refuses as such (bad JSON, too large): its items are sent one by one,
 * and one refused alone is dropped with an error in the log, so it cannot hold up the rest.
 */
export class Batcher<T> {
  readonly #o: BatcherOptions<T>;
  readonly #queue: Pending<T>[] = [];
  #running: Promise<void> | undefined;
  readonly #refusals = new RefusalIsolation();
  readonly #closed = new AbortController();
  /** The caller's signal, or close(). */
  readonly #signal: AbortSignal;

  constructor(opts: BatcherOptions<T>) {
    this.#o = opts;
    this.#signal = AbortSignal.any([opts.signal, this.#closed.signal]);
  }

  /** Resolves once the event carrying `item` was sent, or close() dropped it. */
  push(item: T): Promise<void> {
    return new Promise((done) => {
      this.#queue.push({ item, size: Buffer.byteLength(JSON.stringify(item)), done });
      this.#running ??= this.#drain().finally(() => {
        this.#running = undefined;
      });
    });
  }

  /** Resolves when everything pushed so far was sent (or dropped by close()). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /**
   * Stops for good: items not sent yet are dropped (their pushes resolve), and a send on its
   * way is not tried again if it fails. For a room the node left, which refuses whatever it
   * sends there (M_FORBIDDEN) and would be retried until the node stops. Returns how many
   * items were waiting.
   */
  close(): number {
    this.#closed.abort();
    return this.#dropQueued();
  }

  async #drain(): Promise<void> {
    // Let the current turn of the event loop add its items to this batch.
    await Promise.resolve();
    let delay = this.#o.retryDelayMs ?? 1000;
    while (this.#queue.length > 0 && !this.#signal.aborted) {
      const batch = this.#take();
      try {
        await this.#o.send(batch.map((p) => p.item));
        for (const p of batch) p.done();
        delay = this.#o.retryDelayMs ?? 1000;
      } catch (err) {
        if (refusedContent(err)) {
          this.#refused(batch, err);
          continue;
        }
        this.#queue.unshift(...batch);
        if (this.#closed.signal.aborted) break;
        this.#o.log.warn(`${this.#o.what}: send failed, will retry`, { err, delayMs: delay });
        await sleep(delay, undefined, { signal: this.#signal }).catch(() => {});
        delay = Math.min(delay * 2, 30_000);
      }
    }
    // Stopped (the node's signal, or close()): what was not sent is dropped, so that no push
    // waits for ever (a worker's idle() waits on its reports' pushes).
    if (this.#signal.aborted) this.#dropQueued();
  }

  #dropQueued(): number {
    const dropped = this.#queue.splice(0);
    for (const p of dropped) p.done();
    return dropped.length;
  }

  #refused(batch: Pending<T>[], err: unknown): void {
    if (!this.#refusals.refused(batch.length)) {
      this.#queue.unshift(...batch);
      return;
    }
    this.#o.log.error(`${this.#o.what}: the server refuses this item; dropped`, { err });
    for (const p of batch) p.done();
  }

  #take(): Pending<T>[] {
    const maxItems = this.#refusals.nextLimit(this.#o.maxItems);
    const maxBytes = this.#o.maxBytes ?? 40_000;
    const batch: Pending<T>[] = [];
    let bytes = 0;
    while (this.#queue.length > 0 && batch.length < maxItems) {
      const next = this.#queue[0] as Pending<T>;
      if (batch.length > 0 && bytes + next.size > maxBytes) break;
      batch.push(this.#queue.shift() as Pending<T>);
      bytes += next.size;
    }
    return batch;
  }
}
