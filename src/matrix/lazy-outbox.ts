import { setTimeout as sleep } from 'node:timers/promises';
import type { RoomId } from '../ids.ts';
import type { Logger } from '../log/logger.ts';
import { RefusalIsolation } from './refusal.ts';
import { refusedContent } from './retry.ts';
import type { MeshClient } from './types.ts';

export interface LazyOutboxOptions<T> {
  client: MeshClient;
  room: RoomId;
  type: string;
  /** Builds one event's content from the items it carries. */
  content: (items: T[]) => object;
  /** Items no longer worth sending are dropped (their push resolves false). */
  valid: (item: T) => boolean;
  maxItems: number;
  /** Most JSON bytes of items in one event. Default 40 000. */
  maxBytes?: number;
  /** After the event with these items is in the room. */
  onSent?: (items: T[]) => void;
  log: Logger;
  signal: AbortSignal;
}

interface Pending<T> {
  value: T;
  size: number;
  done: (ok: boolean) => void;
}

/**
 * Items sent as few events as possible, and each event built only when the account's send
 * queue gives it its turn: under a rate limit, one event carries everything pushed while it
 * waited (invariant 7). One event is on its way at a time; a failed one is tried again, with
 * whatever is pending then, until the node stops (refused content aside: see #refused);
 * what is still pending then is dropped.
 */
export class LazyOutbox<T> {
  readonly #o: LazyOutboxOptions<T>;
  readonly #pending: Pending<T>[] = [];
  #sending: Promise<void> | undefined;
  #delay = 1_000;
  readonly #refusals = new RefusalIsolation();

  constructor(opts: LazyOutboxOptions<T>) {
    this.#o = opts;
  }

  /**
   * Resolves true once an event carrying `value` is in the room, false if it was dropped (no
   * longer valid, refused, or the node stopped before it was sent).
   */
  push(value: T): Promise<boolean> {
    return new Promise((done) => {
      this.#pending.push({ value, size: Buffer.byteLength(JSON.stringify(value)), done });
      this.#kick();
    });
  }

  async idle(): Promise<void> {
    while (this.#sending) await this.#sending;
  }

  #kick(): void {
    if (this.#sending || this.#pending.length === 0) return;
    // Stopped: nothing more goes out, and what waited is dropped so that every push settles
    // (as a Batcher's do); the send on its way, if any, settled its own items first.
    if (this.#o.signal.aborted) {
      for (const p of this.#pending.splice(0)) p.done(false);
      return;
    }
    this.#sending = this.#sendOne().finally(() => {
      this.#sending = undefined;
      this.#kick();
    });
  }

  async #sendOne(): Promise<void> {
    const o = this.#o;
    let taken: Pending<T>[] = [];
    const build = () => {
      this.#dropInvalid();
      taken = this.#take();
      return taken.length > 0 ? o.content(taken.map((p) => p.value)) : null;
    };
    try {
      if (o.client.sendBuilt) await o.client.sendBuilt(o.room, o.type, build, o.signal);
      else {
        const content = build();
        if (content) await o.client.send(o.room, o.type, content, o.signal);
      }
      this.#delay = 1_000;
    } catch (err) {
      if (refusedContent(err)) {
        this.#refused(taken, err);
        return;
      }
      o.log.warn(`${o.type}: send failed, will retry`, { err, delayMs: this.#delay });
      await sleep(this.#delay, undefined, { signal: o.signal }).catch(() => {});
      this.#delay = Math.min(this.#delay * 2, 30_000);
      return;
    }
    for (const p of taken) this.#pending.splice(this.#pending.indexOf(p), 1);
    if (taken.length > 0) o.onSent?.(taken.map((p) => p.value));
    for (const p of taken) p.done(true);
  }

  #dropInvalid(): void {
    for (let i = this.#pending.length - 1; i >= 0; i--) {
      const p = this.#pending[i] as Pending<T>;
      if (this.#o.valid(p.value)) continue;
      this.#pending.splice(i, 1);
      p.done(false);
    }
  }

  /** A refused event: its items go one per event, and one refused alone is dropped. */
  #refused(taken: Pending<T>[], err: unknown): void {
    if (!this.#refusals.refused(taken.length)) return;
    for (const p of taken) {
      this.#o.log.error(`${this.#o.type}: the server refuses this item; dropped`, { err });
      this.#pending.splice(this.#pending.indexOf(p), 1);
      p.done(false);
    }
  }

  #take(): Pending<T>[] {
    if (this.#pending.length === 0) return [];
    const maxItems = this.#refusals.nextLimit(this.#o.maxItems);
    const maxBytes = this.#o.maxBytes ?? 40_000;
    const out: Pending<T>[] = [];
    let bytes = 0;
    for (const p of this.#pending) {
      if (out.length >= maxItems || (out.length > 0 && bytes + p.size > maxBytes)) break;
      out.push(p);
      bytes += p.size;
    }
    return out;
  }
}
