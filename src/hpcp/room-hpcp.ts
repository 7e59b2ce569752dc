import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CID } from 'multiformats/cid';
import { MAX_TIMER_MS } from '../config/timer.ts';
import type { RoomId, UserId } from '../ids.ts';
import type { Goho } from '../lattice/types.ts';
import type { RoomEvent } from '../matrix/types.ts';
import { Serial } from '../node/serial.ts';
import { type HeadsEvent, HPCP_EVENT, headsSchema, requestSchema } from '../protocol/hpcp.ts';
import { takeCar, takeInline } from './intake.ts';
import { headsContent, type Outgoing } from './outbox.ts';
import { rank } from './rank.ts';
import { SeenHeads } from './seen.ts';
import type { RoomHpcpDeps } from './types.ts';

/** How often an announced head is merged at most, when its merges fail for a passing reason. */
const MERGE_TRIES = 4;
/** Announced bitswap addresses remembered as dialed. */
const MAX_DIALED = 1_024;

/**
 * HPCP in one room. Local changes are announced once per window; announced heads are merged
 * off the sync loop. A merged head the room has not heard of is announced by one node: each
 * waits its rank's delay and stays quiet if another announced that head first, so nodes that
 * compute the same merge reach the same CID and say nothing. A joining or restarting node
 * asks for heads; nodes holding different ones answer the same way, spaced out.
 */
export class RoomHpcp {
  readonly #d: RoomHpcpDeps;
  readonly #room: RoomId;
  readonly seen = new SeenHeads();
  readonly #sends: Serial;
  readonly #merges: Serial;
  /** Local changes not announced yet: origin -> head to attach blocks since. */
  readonly #pending = new Map<string, CID | undefined>();
  readonly #lastSent = new Map<string, CID>();
  /** Announcements waiting to go out (rate limits): their bases are still needed. */
  readonly #sending = new Set<Outgoing[]>();
  /**
   * The latest announced head merged here, by origin: a merged head's announcement counts its
   * blocks from it. Only merged ones: a head whose trie never arrived is no base (peers may
   * lack it too, and this node cannot diff against it).
   */
  readonly #latestMerged = new Map<string, CID>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #dialed = new Set<string>();
  #lastAnswer = 0;

  constructor(d: RoomHpcpDeps, room: RoomId) {
    this.#d = d;
    this.#room = room;
    this.#sends = new Serial(d.log, 'head announcement');
    this.#merges = new Serial(d.log, 'head merge');
    d.signal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  /**
   * The heads this node announced last, and those its next announcement counts its blocks
   * from: a garbage collection keeps them (peers fetch the announced ones, and the next
   * announcement reads the old version to find what changed since).
   */
  ownHeads(): CID[] {
    const sending = [...this.#sending].flatMap((out) => out.map((o) => o.prev));
    const bases = [...this.#pending.values(), ...sending].filter((c): c is CID => c !== undefined);
    return [...this.#lastSent.values(), ...bases];
  }

  /** A GOHO changed here: announce it (with what changed since `before`) after the window. */
  changed(goho: Goho, before: CID): void {
    const origin = goho.origin().toString();
    if (!this.#pending.has(origin)) this.#pending.set(origin, this.#lastSent.get(origin) ?? before);
    this.#clear(`merge:${origin}`);
    this.#later('change', this.#d.options.announceDelayMs, () => {
      const out = [...this.#pending].flatMap(([o, prev]) => {
        const g = this.#d.gohos.get(o);
        return g ? [{ goho: g, prev }] : [];
      });
      this.#pending.clear();
      this.#send(out, 'change');
    });
  }

  /**
   * Asks the room for current heads (on join and on restart), once this node counts as a
   * node there: peers ignore a request sent before the node's announcement reached them.
   */
  async requestHeads(): Promise<void> {
    for (let i = 0; i < 120 && !this.#d.isNode(this.#d.self); i++) {
      await sleep(250, undefined, { signal: this.#d.signal });
    }
    const heads = [...this.#d.gohos.values()].map((g) => ({
      origin: g.origin().toString(),
      head: g.head().toString(),
    }));
    const nonce = randomBytes(8).toString('hex');
    await this.#d.client.send(this.#room, HPCP_EVENT.request, { heads, nonce }, this.#d.signal);
  }

  /** Takes an HPCP event; false when the event is not one. */
  async onEvent(event: RoomEvent): Promise<boolean> {
    if (event.type !== HPCP_EVENT.heads && event.type !== HPCP_EVENT.request) return false;
    if (event.sender === this.#d.self) return true;
    if (!this.#d.isNode(event.sender)) {
      this.#d.log.warn('HPCP event from a sender that is not a node of the mesh, ignored', {
        room: this.#room,
        sender: event.sender,
        type: event.type,
      });
      return true;
    }
    if (event.type === HPCP_EVENT.heads) await this.#onHeads(event);
    else this.#onRequest(event);
    return true;
  }

  /** Resolves when the announced heads taken so far are merged. */
  settled(): Promise<void> {
    return this.#merges.idle();
  }

  stop(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }

  async #onHeads(event: RoomEvent): Promise<void> {
    const parsed = headsSchema.safeParse(event.content);
    if (!parsed.success) return this.#invalid(event, parsed.error.issues[0]?.message);
    const heads = parsed.data.heads.filter((h) => this.#d.gohos.has(h.origin));
    if (heads.length === 0) return;
    for (const h of heads) {
      this.seen.add(h.origin, h.head, event.sender);
    }
    const cids = heads.map((h) => CID.parse(h.head));
    await takeInline(this.#d, parsed.data.blocks, cids);
    this.#dial(parsed.data.addrs);
    const car = parsed.data.car;
    this.#merges.push(async () => {
      if (car)
        await takeCar(this.#d, car, cids, this.#d.signal).catch((err: unknown) => {
          this.#d.log.warn('could not take the CAR of an announcement', { car, err });
        });
      for (const h of heads) {
        // A node's heads only grow: when it has announced a newer one since, merge that.
        if (this.seen.announcedBy(h.origin).get(event.sender) !== h.head) continue;
        await this.#merge(h.origin, CID.parse(h.head), event.sender);
      }
    });
  }

  /** `tries`: merges of this head that failed for a reason that may pass (see #retry). */
  async #merge(origin: string, head: CID, sender: UserId, tries = 0): Promise<void> {
    const goho = this.#d.gohos.get(origin) as Goho;
    const { options } = this.#d;
    const signals = [AbortSignal.timeout(options.mergeTimeoutMs), this.#d.signal];
    const signal = AbortSignal.any(signals.filter((s): s is AbortSignal => !!s));
    try {
      await this.#d.exclusive(async () => {
        const before = goho.head();
        const after = await goho.merge(head, { signal, budget: options.budget });
        if (!after.equals(before)) await this.#d.merged(goho);
      });
      this.#latestMerged.set(origin, head);
    } catch (err) {
      this.#d.log.warn('announced head not merged', { origin, head: head.toString(), sender, err });
      this.#retry(origin, head, sender, tries, err);
      return;
    }
    const now = goho.head();
    if (now.equals(head) || this.seen.has(origin, now.toString()) || this.#pending.has(origin)) {
      return;
    }
    // Nobody announced this union yet: one node will, the others will see it and keep quiet.
    const step = rank(now.toString(), this.#d.nodes(), this.#d.self) + 1;
    this.#later(`merge:${origin}`, step * options.mergeDelayMs, () => {
      if (this.seen.has(origin, goho.head().toString())) return;
      this.#send([{ goho, prev: this.#latestMerged.get(origin) }], 'merge');
    });
  }

  /**
   * A merge that failed for a reason that may pass (a block no peer sent in time) is tried
   * again a few times, later each time, unless the sender announced a newer head meanwhile:
   * in a quiet room no other announcement may come to bring this node up to date. A head
   * that is bad (a block that does not decode, a trie out of shape) is not tried again.
   */
  #retry(origin: string, head: CID, sender: UserId, tries: number, err: unknown): void {
    const e = err as { retryable?: unknown; name?: unknown } | null;
    const passing = e?.retryable === true || e?.name === 'TimeoutError';
    if (!passing || tries + 1 >= MERGE_TRIES || this.#d.signal?.aborted) return;
    // The sender's newest failed head replaces an older one waiting to be tried again.
    const key = `retry:${origin}:${sender}`;
    this.#clear(key);
    this.#later(key, this.#d.options.mergeDelayMs * 2 ** (tries + 1), () => {
      if (this.seen.announcedBy(origin).get(sender) !== head.toString()) return;
      this.#merges.push(() => this.#merge(origin, head, sender, tries + 1));
    });
  }

  #onRequest(event: RoomEvent): void {
    const parsed = requestSchema.safeParse(event.content);
    if (!parsed.success) {
      this.#invalid(event, parsed.error.issues[0]?.message);
      return;
    }
    const asked = Date.now();
    const theirs = new Map(parsed.data.heads.map((h) => [h.origin, h.head]));
    const differing = () =>
      [...this.#d.gohos.values()].filter((g) => {
        const origin = g.origin().toString();
        const head = g.head();
        if (head.equals(g.origin()) || head.toString() === (theirs.get(origin) ?? origin)) {
          return false;
        }
        return !this.seen.seenSince(origin, head.toString(), asked);
      });
    if (differing().length === 0) return;
    const others = this.#d.nodes().filter((n) => n !== event.sender);
    const step = rank(parsed.data.nonce, others, this.#d.self) + 1;
    const spacing = Math.max(0, this.#lastAnswer + this.#d.options.answerIntervalMs - asked);
    this.#later(`answer:${event.sender}`, step * this.#d.options.answerDelayMs + spacing, () => {
      const out: Outgoing[] = differing().map((goho) => {
        const prev = theirs.get(goho.origin().toString());
        return { goho, prev: prev ? CID.parse(prev) : undefined };
      });
      if (out.length === 0) return;
      this.#lastAnswer = Date.now();
      this.#send(out, 'answer');
    });
  }

  #send(out: Outgoing[], reason: HeadsEvent['reason']): void {
    if (out.length === 0) return;
    this.#sending.add(out);
    this.#sends.push(() => this.#sendNow(out, reason).finally(() => this.#sending.delete(out)));
  }

  async #sendNow(out: Outgoing[], reason: HeadsEvent['reason']): Promise<void> {
    if (this.#d.signal?.aborted) return;
    // Sends wait out rate limits; a head already said since then is not said again
    // (an answer still is: the asker may have missed it).
    const fresh =
      reason === 'answer'
        ? out
        : out.filter((o) => !this.seen.has(o.goho.origin().toString(), o.goho.head().toString()));
    if (fresh.length === 0) return;
    const content = await headsContent(this.#d, fresh, reason);
    await this.#d.client.send(this.#room, HPCP_EVENT.heads, content, this.#d.signal);
    for (const h of content.heads) {
      this.seen.add(h.origin, h.head);
      this.#lastSent.set(h.origin, CID.parse(h.head));
    }
    this.#d.log.debug('heads announced', { room: this.#room, reason, heads: content.heads });
  }

  #dial(addrs: readonly string[]): void {
    const network = this.#d.network;
    if (!network) return;
    for (const addr of addrs) {
      if (this.#dialed.has(addr) || network.addresses().includes(addr)) continue;
      // Each address is dialed once; a node naming new ones without end costs a redial now
      // and then, not memory.
      if (this.#dialed.size >= MAX_DIALED) this.#dialed.clear();
      this.#dialed.add(addr);
      network.dial(addr, { signal: AbortSignal.timeout(5_000) }).catch((err: unknown) => {
        this.#d.log.debug('could not dial an announced bitswap address', { addr, err });
      });
    }
  }

  /** Runs `job` once after `ms`; a timer already set under the same key is kept. */
  #later(key: string, ms: number, job: () => void): void {
    if (this.#timers.has(key) || this.#d.signal?.aborted) return;
    // A delay is a setting times a rank or a backoff: past a timer's longest wait it would
    // fire at once, so it waits the longest instead.
    const t = setTimeout(
      () => {
        this.#timers.delete(key);
        job();
      },
      Math.min(ms, MAX_TIMER_MS),
    );
    t.unref?.();
    this.#timers.set(key, t);
  }

  #clear(key: string): void {
    const t = this.#timers.get(key);
    if (t) clearTimeout(t);
    this.#timers.delete(key);
  }

  #invalid(event: RoomEvent, why: string | undefined): void {
    this.#d.log.warn('invalid HPCP event dropped', {
      room: this.#room,
      type: event.type,
      sender: event.sender,
      id: event.event_id,
      why,
    });
  }
}
