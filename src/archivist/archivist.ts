import { CID } from 'multiformats/cid';
import type { RoomId, UserId } from '../ids.ts';
import { openGoho } from '../lattice/goho.ts';
import type { Goho } from '../lattice/types.ts';
import type { RoomEvent } from '../matrix/types.ts';
import { Serial } from '../node/serial.ts';
import { archiveSchema, HPCP_EVENT } from '../protocol/hpcp.ts';
import { plainSession } from './barrier.ts';
import { collectGarbage, type GcResult } from './gc.ts';
import type { ArchivistDeps } from './types.ts';

interface Watched {
  room: RoomId;
  head: string;
  since: number;
}

/** A node's last archive report in a room: its owner, and origin -> the head it pins. */
interface Holding {
  owner: string;
  pins: Map<string, string>;
}

/**
 * The Archivist: `pin(head, genesis)` keeps every block of the newest head of a GOHO and
 * lets go of the previous one. It reports its pins to the room; from everyone's reports
 * each node warns when a settled head is held by fewer than two nodes of different owners.
 */
export class Archivist {
  readonly #d: ArchivistDeps;
  readonly #pinning: Serial;
  /**
   * room -> node -> its last report. A report lists every pin the node holds in the room, so
   * it replaces the one before: what a node holds here is at most one report's worth, however
   * many origins its reports have named.
   */
  readonly #holders = new Map<RoomId, Map<UserId, Holding>>();
  readonly #watched = new Map<string, Watched>();
  readonly #roomOrigins = new Map<RoomId, Set<string>>();
  /** origin -> the head last warned about: each head of an origin is warned about once. */
  readonly #warned = new Map<string, string>();
  readonly #reports = new Map<RoomId, NodeJS.Timeout>();
  #checker: NodeJS.Timeout | undefined;

  constructor(d: ArchivistDeps) {
    this.#d = d;
    this.#pinning = new Serial(d.log, 'pin');
    d.signal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  /** The head pinned for an origin, if any. */
  pinned(origin: CID): CID | undefined {
    const head = this.#d.pins.get(origin.toString());
    return head ? CID.parse(head) : undefined;
  }

  /** Pins the newest version of a GOHO, fetching what it lacks, and unpins the previous. */
  async pin(head: CID, genesis: CID, opts: { signal?: AbortSignal } = {}): Promise<void> {
    const prev = this.pinned(genesis);
    if (prev?.toString() === head.toString() || head.toString() === genesis.toString()) return;
    const goho = await openGoho(this.#d.store, genesis, head, opts);
    // What the previous pin holds is local already; only the difference is fetched.
    const delta = await goho.since(prev ?? genesis, opts).catch(() => goho.since(genesis, opts));
    for (const cid of delta.blocks) await this.#d.store.getBlock(cid, opts);
    await this.#d.pins.set(genesis.toString(), head.toString());
    this.#d.log.debug('pinned', { origin: genesis.toString(), head: head.toString() });
  }

  /** A GOHO of a room moved to a new head: pin it (when archiving) and watch its holders. */
  headChanged(room: RoomId, goho: Goho): void {
    const origin = goho.origin().toString();
    const head = goho.head();
    this.#watched.set(origin, { room, head: head.toString(), since: Date.now() });
    this.#startChecker();
    if (!this.#d.options.enabled) return;
    const origins = this.#roomOrigins.get(room) ?? new Set<string>();
    this.#roomOrigins.set(room, origins.add(origin));
    this.#pinning.push(async () => {
      const signal = AbortSignal.timeout(this.#d.options.pinTimeoutMs);
      await this.pin(head, goho.origin(), { signal });
      this.#scheduleReport(room);
    });
  }

  /** Takes archive reports; false when the event is not one. */
  async onEvent(room: RoomId, event: RoomEvent): Promise<boolean> {
    if (event.type !== HPCP_EVENT.archive) return false;
    if (event.sender === this.#d.self) return true;
    if (!this.#d.isNode(room, event.sender)) {
      this.#d.log.warn('archive report from a sender that is not a node, ignored', {
        room,
        sender: event.sender,
      });
      return true;
    }
    const parsed = archiveSchema.safeParse(event.content);
    if (!parsed.success) {
      this.#d.log.warn('invalid archive report dropped', { room, sender: event.sender });
      return true;
    }
    const byNode = this.#holders.get(room) ?? new Map<UserId, Holding>();
    this.#holders.set(room, byNode);
    const pins = new Map(parsed.data.pins.map(({ origin, head }) => [origin, head]));
    byNode.set(event.sender, { owner: parsed.data.owner, pins });
    return true;
  }

  /** The distinct owners of the nodes known to hold `head` (this one included). */
  owners(room: RoomId, origin: CID, head: CID): string[] {
    const owners = new Set<string>();
    const [o, h] = [origin.toString(), head.toString()];
    for (const [node, held] of this.#holders.get(room) ?? []) {
      if (held.pins.get(o) === h && this.#d.isNode(room, node)) owners.add(held.owner);
    }
    if (this.#d.options.enabled && this.pinned(origin)?.equals(head)) {
      owners.add(this.#d.options.owner);
    }
    return [...owners].sort();
  }

  /** Resolves when the pins asked for so far are done. */
  idle(): Promise<void> {
    return this.#pinning.idle();
  }

  /**
   * Deletes GOHO blocks that neither a pin nor one of `keep` reaches (heads, or any block that
   * must stay with the GOHO blocks it reaches). `keep` may be a function: it is then read as
   * late as it can be, once the store is listed. Beside a running node, give the Archivist the
   * barrier its store is guarded by; without one nothing else may use the store meanwhile.
   */
  async collectGarbage(
    keep: readonly CID[] | (() => Promise<readonly CID[]>),
    opts: { signal?: AbortSignal } = {},
  ): Promise<GcResult> {
    const session = this.#d.barrier?.begin() ?? plainSession(this.#d.store);
    try {
      const starts = async () => {
        // Pins still fetching may take minutes: a stopping node does not wait for them.
        await orAbort(this.idle(), opts.signal);
        const pinned = this.#d.pins.entries().map(([, head]) => CID.parse(head));
        return [...pinned, ...(typeof keep === 'function' ? await keep() : keep)];
      };
      return await collectGarbage(session, starts, this.#d.log, opts);
    } finally {
      session.end();
    }
  }

  stop(): void {
    for (const t of this.#reports.values()) clearTimeout(t);
    this.#reports.clear();
    if (this.#checker) clearInterval(this.#checker);
    this.#checker = undefined;
  }

  #scheduleReport(room: RoomId): void {
    if (this.#reports.has(room) || this.#d.signal?.aborted) return;
    const t = setTimeout(() => {
      this.#reports.delete(room);
      const pins = [...(this.#roomOrigins.get(room) ?? [])].flatMap((origin) => {
        const head = this.#d.pins.get(origin);
        return head ? [{ origin, head }] : [];
      });
      const content = { owner: this.#d.options.owner, pins };
      this.#d.client
        .send(room, HPCP_EVENT.archive, content, this.#d.signal)
        .catch((err: unknown) => this.#d.log.warn('could not report pins', { room, err }));
    }, this.#d.options.reportDelayMs);
    t.unref?.();
    this.#reports.set(room, t);
  }

  #startChecker(): void {
    if (this.#checker || this.#d.signal?.aborted) return;
    const every = Math.max(250, Math.floor(this.#d.options.warnAfterMs / 4));
    this.#checker = setInterval(() => this.#check(), every);
    this.#checker.unref?.();
  }

  #check(): void {
    const now = Date.now();
    for (const [origin, w] of this.#watched) {
      if (now - w.since < this.#d.options.warnAfterMs || this.#warned.get(origin) === w.head) {
        continue;
      }
      const owners = this.owners(w.room, CID.parse(origin), CID.parse(w.head));
      if (owners.length >= 2) continue;
      this.#warned.set(origin, w.head);
      this.#d.log.warn('fewer than two nodes of different owners hold this head', {
        room: w.room,
        origin,
        head: w.head,
        owners,
      });
    }
  }
}

/** Resolves as `p` does, or rejects with the signal's reason when it aborts first. */
async function orAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  signal.throwIfAborted();
  let off = () => {};
  const aborted = new Promise<never>((_, reject) => {
    const on = () => reject(signal.reason);
    signal.addEventListener('abort', on, { once: true });
    off = () => signal.removeEventListener('abort', on);
  });
  try {
    return await Promise.race([p, aborted]);
  } finally {
    off();
  }
}
