import type { PendingRequest } from './task-record.ts';

const KEEP_REQUESTS = 1_000;
const KEEP_HANDLED = 5_000;
const KEEP_DELETED = 5_000;

/**
 * The commands seen in a room that no coordinator has handled yet, and the ids of those
 * handled, so that no node handles one twice; and the deletions of requests, with who
 * deleted them. All bounded: the oldest go first.
 */
export class RequestLog {
  readonly #pending = new Map<string, PendingRequest>();
  readonly #handled = new Set<string>();
  /**
   * Requests deleted, with who deleted them (`deletion` keys: only the request's own sender's
   * deletion counts, and anyone may send one). A coordinator may be turning one into a task
   * while its deletion arrives; the task must then arrive cancelled (TaskBook.accept).
   */
  readonly #deleted = new Set<string>();

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

  /** A request deleted by `sender`. */
  deleted(request: string, sender: string): void {
    this.#deleted.add(deletion(request, sender));
    trim(this.#deleted, KEEP_DELETED);
  }

  /** Whether `submitter` deleted the request `request`. */
  isDeleted(request: string, submitter: string): boolean {
    return this.#deleted.has(deletion(request, submitter));
  }

  /** The deletions kept: [request, sender]. */
  deletions(): [string, string][] {
    return [...this.#deleted].map((k) => JSON.parse(k) as [string, string]);
  }

  restore(
    pending: readonly PendingRequest[],
    handled: readonly string[],
    deletions: readonly [string, string][] = [],
  ): void {
    for (const h of handled) this.#handled.add(h);
    for (const r of pending) this.seen(r);
    for (const [request, sender] of deletions) this.deleted(request, sender);
  }
}

const deletion = (request: string, sender: string) => JSON.stringify([request, sender]);

/** Drops the oldest entries (insertion order) beyond `max`. */
export function trim<T>(c: Map<string, T> | Set<string>, max: number): void {
  while (c.size > max) {
    const first = c.keys().next().value as string;
    c.delete(first);
  }
}
