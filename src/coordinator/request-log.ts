import type { PendingRequest } from './task-record.ts';

const KEEP_REQUESTS = 1_000;
const KEEP_HANDLED = 5_000;

/**
 * The commands seen in a room that no coordinator has handled yet, and the ids of those
 * handled, so that no node handles one twice. Both bounded: the oldest go first.
 */
export class RequestLog {
  readonly #pending = new Map<string, PendingRequest>();
  readonly #handled = new Set<string>();

  /** A command seen in the room; ignored when some node handled it already. */
  seen(r: PendingRequest): void {
    if (this.#handled.has(r.id) || this.#pending.has(r.id)) return;
    this.#pending.set(r.id, r);
    trim(this.#pending, KEEP_REQUESTS);
  }

  /** A coordinator answered or took a request: no other node handles it again. */
  handled(request: string): void {
    this.#pending.delete(request);
    this.#handled.add(request);
    trim(this.#handled, KEEP_HANDLED);
  }

  isHandled(request: string): boolean {
    return this.#handled.has(request);
  }

  /** Commands waiting for a coordinator, oldest first. */
  pending(): PendingRequest[] {
    return [...this.#pending.values()];
  }

  handledIds(): string[] {
    return [...this.#handled];
  }

  restore(pending: readonly PendingRequest[], handled: readonly string[]): void {
    for (const h of handled) this.#handled.add(h);
    for (const r of pending) this.seen(r);
  }
}

/** Drops the oldest entries (insertion order) beyond `max`. */
export function trim<T>(c: Map<string, T> | Set<string>, max: number): void {
  while (c.size > max) {
    const first = c.keys().next().value as string;
    c.delete(first);
  }
}
