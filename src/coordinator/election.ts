import type { UserId } from '../ids.ts';
import type { Logger } from '../log/logger.ts';
import type { Lease } from '../protocol/manager.ts';
import { LeaseClock } from './lease.ts';

export interface ElectionOptions {
  self: UserId;
  /** The lease this node asks for when it claims or renews. */
  leaseMs: number;
  /** The room's live nodes, sorted: the order in which they may claim an expired lease. */
  candidates: () => UserId[];
  /** Sends the lease state event. */
  publish: (lease: Lease) => Promise<void>;
  /** Whether a user has left the room (a holder that left holds nothing). Default: never. */
  gone?: (user: UserId) => boolean;
  log: Logger;
  now?: () => number;
}

/**
 * The election of one room, driven by `tick()` (on a timer and after each lease event).
 * The holder renews at half its lease (a third for short leases; see `renewEvery`). When the lease has expired, the live nodes claim
 * in a fixed order, one stagger apart, each only if nobody claimed before its turn; the
 * expired holder comes last. A claim takes the highest term seen plus one. Two claims of the
 * same term (no compare-and-swap in Matrix state) resolve to the later one in the timeline:
 * the other claimant sees it and steps down, having cost at most some duplicate work.
 */
/** The longest lease a node honours, in multiples of its own `leaseMs`. */
const MAX_LEASE_FACTOR = 2;

export class Election {
  readonly clock: LeaseClock;
  readonly #o: ElectionOptions;
  readonly #now: () => number;
  readonly #startedAt: number;
  #renewal = 0;
  #lastSend = Number.NEGATIVE_INFINITY;
  #busy = false;
  #lastTick: number;
  #quietUntil = 0;

  constructor(opts: ElectionOptions) {
    this.#o = opts;
    this.#now = opts.now ?? Date.now;
    this.#startedAt = this.#now();
    this.#lastTick = this.#startedAt;
    this.clock = new LeaseClock(opts.self, Math.min(2_000, opts.leaseMs / 3));
  }

  /** Whether this node is the coordinator now. */
  acting(): boolean {
    return this.clock.acting(this.#now());
  }

  /** The term this node acts in (meaningful while `acting()`). */
  get term(): number {
    return this.clock.current?.term ?? 0;
  }

  /** Time between two claims in the candidate order. */
  get stagger(): number {
    return Math.max(250, Math.round(this.#o.leaseMs / 4));
  }

  async tick(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      await this.#decide();
    } catch (err) {
      this.#o.log.warn('lease update failed; will try again', { err });
    } finally {
      this.#busy = false;
    }
  }

  async #decide(): Promise<void> {
    const now = this.#now();
    const third = this.#o.leaseMs / 3;
    // Woken from a pause (SIGSTOP, a frozen VM): what this node knows of the room is stale,
    // so it claims nothing until the sync has had time to bring the news.
    if (now - this.#lastTick > this.#o.leaseMs / 2) this.#quietUntil = now + this.#o.leaseMs / 2;
    this.#lastTick = now;
    const current = this.clock.current;
    if (this.clock.acting(now)) {
      if (now - this.#lastSend >= renewEvery(this.#o.leaseMs) && current) {
        await this.#send(current.term);
      }
      return;
    }
    // A claim or renewal is on its way: wait for it to come back through the sync.
    if (now - this.#lastSend < third) return;
    if (this.clock.inherited()) {
      this.#o.log.info('this node held the lease before a restart: claiming a new term');
      await this.#send(this.clock.highestTerm + 1);
      return;
    }
    const expires = this.#expiry(now);
    if (now < expires || now < this.#quietUntil) return;
    const order = this.#order(current?.holder as UserId | undefined);
    const rank = order.indexOf(this.#o.self);
    if (rank < 0 || now < expires + rank * this.stagger) return;
    this.#o.log.info('coordinator lease expired: claiming it', {
      previous: current?.holder,
      term: this.clock.highestTerm + 1,
    });
    await this.#send(this.clock.highestTerm + 1);
  }

  /**
   * When the current lease ends for this node: as its holder said, but no later than
   * MAX_LEASE_FACTOR of this node's own lease after it was seen (every node of a room should
   * use the same one; a holder that asks for an hour and then leaves would stall the mesh),
   * and at once when its holder left the room.
   */
  #expiry(now: number): number {
    const current = this.clock.current;
    if (!current) return this.#startedAt;
    if (this.#o.gone?.(current.holder as UserId)) return now;
    const said = this.clock.expiresAt() ?? this.#startedAt;
    return Math.min(said, current.seenAt + MAX_LEASE_FACTOR * this.#o.leaseMs);
  }

  #order(expiredHolder: UserId | undefined): UserId[] {
    const live = this.#o.candidates().filter((n) => n !== expiredHolder);
    return expiredHolder ? [...live, expiredHolder] : live;
  }

  async #send(term: number): Promise<void> {
    const lease: Lease = {
      holder: this.#o.self,
      term,
      leaseMs: this.#o.leaseMs,
      renewal: ++this.#renewal,
    };
    const at = this.#now();
    this.clock.noteSend(lease, at);
    this.#lastSend = at;
    await this.#o.publish(lease);
  }
}

/**
 * When a lease is renewed: at half of it, so a renewal is one event per half lease under a
 * homeserver's rate limit (renewals go out before other sends), yet never with less than
 * 5 s of the lease left for it to arrive; short leases (tests) renew at a third.
 */
export function renewEvery(leaseMs: number): number {
  return Math.max(leaseMs / 3, Math.min(leaseMs / 2, leaseMs - 5_000));
}
