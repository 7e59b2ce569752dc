import { rateLimitDelay } from './retry.ts';

/** The priority of the coordinator's lease, which has a slot of its own (SendQueue). */
const LEASE = 0;

/**
 * Which sends go first when the homeserver's rate limit leaves room for only some: the
 * coordinator's lease before anything (a starved renewal would cost the mesh its
 * coordinator), then what keeps work alive, then work itself and the answers people wait
 * for, in the order they were queued, then batched replication (each of its events carries
 * everything pending, so waiting costs it nothing but delay), and cosmetics last. Lower runs
 * first.
 */
export function sendPriority(type: string): number {
  if (type === 'org.meshbot.lease') return LEASE;
  if (type === 'org.meshbot.renew' || type === 'org.meshbot.node') return 1;
  // An answer waits behind assignments only in queue order: a coordinator assigning all the
  // time under a rate limit would otherwise never get its own answers out.
  if (WORK.has(type) || type === 'm.room.message') return 2;
  // Replication that is batched by design (heads, archive notes).
  if (type.startsWith('org.meshbot.')) return 3;
  return 4;
}

/** Events that move work forward: assignments, completions, blocks a worker waits for. */
const WORK = new Set([
  'org.meshbot.assign',
  'org.meshbot.accept',
  'org.meshbot.complete',
  'org.meshbot.cancel',
  'org.meshbot.want',
  'org.meshbot.blocks',
]);

/** How long after a rate limit sends stay one at a time. */
const CALM_MS = 30_000;

interface Pending {
  /** A best-effort send still waiting by then is dropped (cosmetics under a rate limit). */
  deadline: number;
  priority: number;
  queuedAt: number;
  what: string;
  seq: number;
  attempt: () => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (err: unknown) => void;
  signal?: AbortSignal;
  /** Runs in the lease's own slot (see #pump). */
  reserved?: boolean;
}

/**
 * One account's outgoing requests. A few run at once; when the server answers
 * `M_LIMIT_EXCEEDED`, every send of the account waits out `retry_after_ms` together, and the
 * next free slot goes to the most important send waiting — not to whichever retry happens
 * to wake up first.
 */
export class SendQueue {
  readonly #pending: Pending[] = [];
  readonly #parallel: number;
  #active = 0;
  /** Whether a lease send is in the lease's own slot. */
  #leaseSlot = false;
  #seq = 0;
  #pausedUntil = 0;
  #limitedAt = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;

  readonly #onSlow: ((what: string, waitedMs: number) => void) | undefined;

  /** `onSlow`: told of each send that waited in the queue longer than 5 s (rate limits). */
  constructor(parallel = 4, onSlow?: (what: string, waitedMs: number) => void) {
    this.#parallel = parallel;
    this.#onSlow = onSlow;
  }

  /** Whether the server rate-limited this account lately. */
  get limited(): boolean {
    return Date.now() - this.#limitedAt < CALM_MS;
  }

  /** Runs `attempt` (one try; it may throw a rate-limit error) when its turn comes. */
  run<T>(
    priority: number,
    attempt: () => Promise<T>,
    signal?: AbortSignal,
    what = 'send',
    maxWaitMs = Number.POSITIVE_INFINITY,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // The signal is often the node's own, alive for its whole life: the listener goes when
      // the send settles, or it would keep every sent event's content in memory.
      const onAbort = () => this.#drop(p, signal?.reason);
      const p: Pending = {
        deadline: Date.now() + maxWaitMs,
        priority,
        queuedAt: Date.now(),
        what,
        seq: ++this.#seq,
        attempt,
        resolve: (v) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(v as T);
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
        signal,
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.push(p);
      this.#pump();
    });
  }

  #drop(p: Pending, reason: unknown): void {
    const i = this.#pending.indexOf(p);
    if (i >= 0) this.#pending.splice(i, 1);
    p.reject(reason);
  }

  #pump(): void {
    const wait = this.#pausedUntil - Date.now();
    if (wait > 0) {
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        this.#pump();
      }, wait);
      return;
    }
    // Lately rate limited: one send at a time, so the most important one is the one the
    // server sees first when the limit lets the next message through.
    const limited = Date.now() - this.#limitedAt < CALM_MS;
    const parallel = limited ? 1 : this.#parallel;
    // The lease also has a slot of its own: a send in a slot may hold it for minutes, backing
    // off on 5xx inside its turn (withRetry), and a renewal waiting behind it would cost the
    // mesh its coordinator. It still waits out the server's pause above, as every send does.
    while (this.#pending.length > 0) {
      const best = this.#best();
      const next = this.#pending[best] as Pending;
      const ownSlot = next.priority === LEASE && !this.#leaseSlot;
      if (this.#active >= parallel && !ownSlot) break;
      this.#pending.splice(best, 1);
      if (Date.now() > next.deadline) {
        next.reject(new Error(`${next.what} dropped: it waited too long for the rate limit`));
        continue;
      }
      if (this.#active < parallel) this.#active++;
      else next.reserved = this.#leaseSlot = true;
      void this.#go(next);
    }
  }

  #best(): number {
    let best = 0;
    for (let i = 1; i < this.#pending.length; i++) {
      const a = this.#pending[i] as Pending;
      const b = this.#pending[best] as Pending;
      if (a.priority < b.priority || (a.priority === b.priority && a.seq < b.seq)) best = i;
    }
    return best;
  }

  async #go(p: Pending): Promise<void> {
    try {
      p.resolve(await p.attempt());
      const waited = Date.now() - p.queuedAt;
      if (waited > 5_000) this.#onSlow?.(p.what, waited);
    } catch (err) {
      const delay = rateLimitDelay(err);
      if (delay === null || p.signal?.aborted) p.reject(err);
      else {
        this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + delay);
        this.#limitedAt = Date.now();
        this.#pending.push(p); // keeps its place: same priority, same sequence number
      }
    } finally {
      if (p.reserved) p.reserved = this.#leaseSlot = false;
      else this.#active--;
      this.#pump();
    }
  }
}
