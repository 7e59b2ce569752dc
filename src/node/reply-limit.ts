/** How long a member who may not run work waits for the next answer in one room. */
export const QUIET_MS = 60_000;
/** Senders remembered at most; the oldest go first (each waits a minute at most anyway). */
const KEEP = 1_000;

/**
 * Answers to members who may not run work, at most one per sender per room a minute. Such a
 * member could otherwise flood the room with commands and have the coordinator spend its
 * sends (about 0.2 a second) on refusals while real work waits.
 */
export class ReplyLimit {
  readonly #last = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Whether an answer to `sender` in `room` may go out now; counts it when it may. */
  take(room: string, sender: string): boolean {
    const key = `${room} ${sender}`;
    const now = this.#now();
    const last = this.#last.get(key);
    if (last !== undefined && now - last < QUIET_MS) return false;
    this.#last.delete(key);
    this.#last.set(key, now);
    if (this.#last.size > KEEP) this.#last.delete(this.#last.keys().next().value as string);
    return true;
  }
}
