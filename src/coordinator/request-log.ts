import type { PendingRequest } from './task-record.ts';

const KEEP_REQUESTS = 1_000;
const KEEP_UNADMITTED = 100;
/**
 * How long a command from a member who may not run work waits for a coordinator. One is
 * handled within seconds; a coordinator holds back all but one refusal a minute to such a
 * member, and says nothing to the other nodes about those it held back.
 */
export const UNADMITTED_WAIT_MS = 60_000;
const KEEP_HANDLED = 5_000;
const KEEP_DELETED = 5_000;

/**
 * The commands seen in a room that no coordinator has handled yet, and the ids of those
 * handled, so that no node handles one twice; and the deletions of requests, with who
 * deleted them. All bounded: the oldest go first.
 */
export class RequestLog {
  readonly #pending = new Map<string, PendingRequest>();
  /**
   * Commands from members who may not run work, kept apart: they are owed one refusal a
   * minute at most, which leaves no trace in the room when it is held back, so they would
   * wait on every other node for ever. They are not kept past UNADMITTED_WAIT_MS nor written
   * to disk, and a flood of them never pushes out the commands of those who may run work.
   */
  readonly #unadmitted = new Map<string, PendingRequest>();
  readonly #handled = new Set<string>();
  /**
   * Commands a coordinator is answering now: no longer offered by `pending()`, but still kept
   * (and saved) as waiting until `handled()`, so that a node stopping before its answer is out
   * finds them again after its restart.
   */
  readonly #taking = new Set<string>();
  /**
   * Requests deleted, with who deleted them (`deletion` keys: only the request's own sender's
   * deletion counts, and anyone may send one). A coordinator may be turning one into a task
   * while its deletion arrives; the task must then arrive cancelled (TaskBook.accept).
   */
  readonly #deleted = new Set<string>();

  /**
   * A command seen in the room; ignored when some node handled it already. `mayRun`: whether
   * its sender may run work here, as the room stands when it is seen.
   */
  seen(r: PendingRequest, mayRun = true): void {
    if (this.#handled.has(r.id) || this.#pending.has(r.id) || this.#unadmitted.has(r.id)) return;
    const into = mayRun ? this.#pending : this.#unadmitted;
    into.set(r.id, r);
    trim(into, mayRun ? KEEP_REQUESTS : KEEP_UNADMITTED);
  }

  /** This node starts answering a request: `pending()` leaves it out until `handled()`. */
  take(request: string): void {
    this.#taking.add(request);
  }

  /** A coordinator answered or took a request: no other node handles it again. */
  handled(request: string): void {
    this.#pending.delete(request);
    this.#unadmitted.delete(request);
    this.#taking.delete(request);
    this.#handled.add(request);
    trim(this.#handled, KEEP_HANDLED);
  }

  /** Whether a coordinator handled the request, or this node is handling it now. */
  isHandled(request: string): boolean {
    return this.#handled.has(request) || this.#taking.has(request);
  }

  /**
   * Commands waiting for a coordinator, oldest first: those of members who may run work,
   * then the others seen within UNADMITTED_WAIT_MS of `now` (older ones are dropped).
   */
  pending(now = Date.now()): PendingRequest[] {
    for (const [id, r] of this.#unadmitted) {
      if (now - r.seenAt < UNADMITTED_WAIT_MS) break;
      this.#unadmitted.delete(id);
    }
    const all = [...this.#pending.values(), ...this.#unadmitted.values()];
    return all.filter((r) => !this.#taking.has(r.id));
  }

  /** The commands a restart keeps: those of members who may run work. */
  kept(): PendingRequest[] {
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
