/**
 * Finding the item a refused event held. Content the server (or the client's size check)
 * refuses would be refused again: its items go one per event until the culprit is alone,
 * and that one is dropped, so it cannot hold up everything queued behind it. Shared by the
 * outboxes that batch items into events (batcher.ts, lazy-outbox.ts).
 */
export class RefusalIsolation {
  /** Events still to carry one item each. */
  #alone = 0;

  /**
   * After an event of `items` items was refused as content: true when it held one item,
   * which the caller drops; else its items go one per event from now on.
   */
  refused(items: number): boolean {
    if (items <= 1) return true;
    this.#alone = items;
    return false;
  }

  /** The most items the next event may carry: one while isolating, else `max`. */
  nextLimit(max: number): number {
    if (this.#alone === 0) return max;
    this.#alone--;
    return 1;
  }
}
