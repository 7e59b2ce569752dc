import type { UserId } from '../ids.ts';

const PER_ORIGIN = 256;

/**
 * What the room has said about each GOHO: every head announced (by anyone, this node
 * included) with when it was last announced, and the latest head each admitted node announced.
 * Lets a node stay quiet about a head the room already knows, and tells the archivist which
 * heads are still announced.
 */
export class SeenHeads {
  readonly #heads = new Map<string, Map<string, number>>();
  readonly #bySender = new Map<string, Map<UserId, string>>();

  /** Records that `head` of `origin` was announced (by `sender`, when it is a peer). */
  add(origin: string, head: string, sender?: UserId): void {
    let heads = this.#heads.get(origin);
    if (!heads) {
      heads = new Map();
      this.#heads.set(origin, heads);
    }
    // Re-announcing moves a head to the end with a fresh time.
    heads.delete(head);
    heads.set(head, Date.now());
    if (heads.size > PER_ORIGIN) heads.delete(heads.keys().next().value as string);
    if (sender) {
      let senders = this.#bySender.get(origin);
      if (!senders) {
        senders = new Map();
        this.#bySender.set(origin, senders);
      }
      senders.set(sender, head);
    }
  }

  has(origin: string, head: string): boolean {
    return this.#heads.get(origin)?.has(head) ?? false;
  }

  /** Whether `head` was announced (again) at or after `since` (ms since the epoch). */
  seenSince(origin: string, head: string, since: number): boolean {
    return (this.#heads.get(origin)?.get(head) ?? -1) >= since;
  }

  /** The latest head each peer announced for an origin. */
  announcedBy(origin: string): ReadonlyMap<UserId, string> {
    return this.#bySender.get(origin) ?? new Map();
  }

  /** Forgets what a peer announced (it left the room or stopped being a node). */
  forgetSender(user: UserId): void {
    for (const senders of this.#bySender.values()) senders.delete(user);
  }
}
