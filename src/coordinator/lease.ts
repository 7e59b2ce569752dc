import type { UserId } from '../ids.ts';
import type { Lease } from '../protocol/manager.ts';

/** The lease as this node last saw it in the room, with the local time it was seen. */
export interface SeenLease extends Lease {
  seenAt: number;
}

const TERM_MEMORY = 64;

/**
 * What one node knows about the coordinator's lease. Matrix state has no compare-and-swap,
 * so the rule is plain: the current lease is the last lease event in timeline order, and it
 * expires `leaseMs` after this node saw it. The holder measures its own lease from the
 * moment it *sent* the renewal, which is never later than anyone saw it: the holder stops
 * acting before any other node may take over. A paused holder (SIGSTOP) wakes up with an
 * expired lease by its own clock and acts no more; anything it still sends carries an old
 * term, which workers reject once they saw the newer one.
 */
export class LeaseClock {
  readonly self: UserId;
  #current: SeenLease | undefined;
  #highest = 0;
  readonly #holders = new Map<number, UserId>();
  /** When this node sent each of its own lease events, by `term/renewal`. */
  readonly #sent = new Map<string, number>();
  #validUntil = 0;
  #claimSeenAt = 0;
  readonly #settleMs: number;

  /**
   * `settleMs`: a new claim acts only after being the latest this long. Claims that several
   * nodes sent while the homeserver was away land together when it comes back; the last one
   * wins, and the others step down before they act on anything.
   */
  constructor(self: UserId, settleMs = 0) {
    this.self = self;
    this.#settleMs = settleMs;
  }

  get current(): SeenLease | undefined {
    return this.#current;
  }

  get highestTerm(): number {
    return this.#highest;
  }

  /** The holder of a term, as far as this node saw the claims. */
  holderOf(term: number): UserId | undefined {
    return this.#holders.get(term);
  }

  /** Whether `user` held one of the terms this node remembers. */
  held(user: UserId): boolean {
    for (const holder of this.#holders.values()) if (holder === user) return true;
    return false;
  }

  /** The terms' holders this node remembers, for its book file: [term, holder]. */
  holders(): [number, UserId][] {
    return [...this.#holders];
  }

  /** Holders saved before a restart; the newest term among them counts as seen. */
  restoreHolders(pairs: [number, UserId][]): void {
    for (const [term, holder] of pairs) {
      this.#remember(term, holder);
      this.#highest = Math.max(this.#highest, term);
    }
  }

  #remember(term: number, holder: UserId): void {
    this.#holders.delete(term);
    this.#holders.set(term, holder);
    if (this.#holders.size > TERM_MEMORY) {
      this.#holders.delete(this.#holders.keys().next().value as number);
    }
  }

  /** Called just before this node sends a lease event: its own lease runs from here. */
  noteSend(lease: Lease, at: number): void {
    this.#sent.set(`${lease.term}/${lease.renewal}`, at);
    if (this.#sent.size > TERM_MEMORY) this.#sent.delete(this.#sent.keys().next().value as string);
  }

  /**
   * A lease event from the room's timeline (or its state, on start). One of a term older than
   * the newest seen changes nothing but the record of who held that term: it is stale (a
   * replay, or a node that started without knowing the newest term and claimed a low one).
   */
  observe(lease: Lease, at: number): void {
    if (lease.term < this.#highest) {
      this.#remember(lease.term, lease.holder as UserId);
      return;
    }
    const prev = this.#current;
    if (prev?.term !== lease.term || prev.holder !== lease.holder) this.#claimSeenAt = at;
    this.#current = { ...lease, seenAt: at };
    this.#highest = Math.max(this.#highest, lease.term);
    this.#remember(lease.term, lease.holder as UserId);
    const sentAt = this.#sent.get(`${lease.term}/${lease.renewal}`);
    this.#validUntil =
      lease.holder === this.self && sentAt !== undefined ? sentAt + lease.leaseMs : 0;
  }

  /** Whether this node is the coordinator now, by its own (conservative) clock. */
  acting(now: number): boolean {
    return (
      this.#current?.holder === this.self &&
      now < this.#validUntil &&
      now >= this.#claimSeenAt + this.#settleMs
    );
  }

  /** When the current lease runs out in this node's eyes; null when there is none. */
  expiresAt(): number | null {
    return this.#current ? this.#current.seenAt + this.#current.leaseMs : null;
  }

  /** The latest lease names this node but this process never sent it (a restart). */
  inherited(): boolean {
    const c = this.#current;
    return !!c && c.holder === this.self && !this.#sent.has(`${c.term}/${c.renewal}`);
  }
}
