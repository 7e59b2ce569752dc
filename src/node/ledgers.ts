import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import { Archivist } from '../archivist/archivist.ts';
import type { GcBarrier } from '../archivist/barrier.ts';
import type { GcResult } from '../archivist/gc.ts';
import { DEFAULT_ARCHIVIST } from '../archivist/types.ts';
import type { Config } from '../config/schema.ts';
import { hpcpOptions } from '../hpcp/config.ts';
import { RoomHpcp } from '../hpcp/room-hpcp.ts';
import { DEFAULT_HPCP, type HpcpOptions, type PeerNetwork } from '../hpcp/types.ts';
import type { RoomId, UserId } from '../ids.ts';
import { createGoho, openGoho } from '../lattice/index.ts';
import type { Goho, LeafInput } from '../lattice/types.ts';
import type { Logger } from '../log/logger.ts';
import type { MeshClient, RoomEvent } from '../matrix/types.ts';
import type { Admission } from '../mesh/admission.ts';
import { liveNodes, type Roster } from '../mesh/roster.ts';
import { createQueue, type Queue } from '../queue/index.ts';
import { cidOrUndefined } from '../store/cid.ts';
import type { Store } from '../store/types.ts';
import { HeadsFile } from './heads-file.ts';
import { Serial } from './serial.ts';

export interface LedgerDeps {
  store: Store;
  client: MeshClient;
  heads: HeadsFile;
  log: Logger;
  self: UserId;
  /** Who counts as a node of the mesh in a room, and which nodes are live there. */
  mesh?: { isNode(room: RoomId, user: UserId): boolean; nodes(room: RoomId): UserId[] };
  /** The bitswap path, when this node listens for it. */
  network?: PeerNetwork;
  hpcp?: Partial<HpcpOptions>;
  /** Pins the heads this node archives; absent when it archives nothing. */
  archivist?: Archivist;
  /** Aborted when the node stops. */
  signal?: AbortSignal;
  /** Told of every new head of a room's GOHO, local or merged: set by Ledgers (onHeadChange). */
  watch?: (room: RoomId, goho: Goho) => void;
}

/**
 * A room's replicated state: its Queue GOHO (available/assigned/completed) and its Results
 * GOHO, kept in step with the other nodes by HPCP. Every local change is persisted and
 * announced; announced heads are merged. Both origins derive from the room id, so every
 * node agrees on them unasked.
 */
export class RoomLedger {
  readonly #d: LedgerDeps;
  readonly #room: RoomId;
  readonly queueGoho: Goho;
  readonly resultsGoho: Goho;
  readonly queue: Queue;
  readonly hpcp: RoomHpcp;
  /** One change at a time: a GOHO's head is read, changed and written back. */
  readonly #lock: Serial;

  constructor(d: LedgerDeps, room: RoomId, queueGoho: Goho, resultsGoho: Goho) {
    this.#d = d;
    this.#lock = new Serial(d.log, 'ledger change');
    this.#room = room;
    this.queueGoho = queueGoho;
    this.resultsGoho = resultsGoho;
    this.queue = createQueue(queueGoho, { author: d.self });
    const gohos = new Map([queueGoho, resultsGoho].map((g) => [g.origin().toString(), g]));
    this.hpcp = new RoomHpcp(
      {
        client: d.client,
        store: d.store,
        log: d.log.child({ part: 'hpcp', room }),
        self: d.self,
        gohos,
        exclusive: (job) => this.#lock.exclusive(job),
        merged: (goho) => this.#persist(goho),
        isNode: (user) => d.mesh?.isNode(room, user) ?? false,
        nodes: () => d.mesh?.nodes(room) ?? [],
        network: d.network,
        options: { ...DEFAULT_HPCP, ...d.hpcp },
        signal: d.signal,
      },
      room,
    );
  }

  get gohos(): Goho[] {
    return [this.queueGoho, this.resultsGoho];
  }

  async enqueue(task: CID): Promise<void> {
    await this.#changed(this.queueGoho, () => this.queue.enqueue(task));
  }

  async assign(task: CID, a: { worker: UserId; term: number; attempt: number }): Promise<void> {
    await this.#changed(this.queueGoho, () => this.queue.assign(task, a));
  }

  /** A final outcome; a result goes into the Results GOHO with `extra` (a stage's output). */
  async complete(
    task: CID,
    c: Parameters<Queue['complete']>[1],
    extra: readonly LeafInput[] = [],
  ): Promise<void> {
    await this.#changed(this.queueGoho, () => this.queue.complete(task, c));
    if (c.ok) {
      const leaf = {
        path: `results/${task}`,
        action: 'set' as const,
        value: c.result,
        author: this.#d.self,
      };
      await this.#changed(this.resultsGoho, () => this.resultsGoho.appendAll([leaf, ...extra]));
    }
  }

  /** Appends leaves to one of this room's GOHOs as one change (announced like any other). */
  async append(goho: Goho, leaves: readonly LeafInput[]): Promise<void> {
    await this.#changed(goho, () => goho.appendAll(leaves));
  }

  status(task: CID): ReturnType<Queue['status']> {
    return this.queue.status(task);
  }

  /** Resolves when announced heads taken so far are merged. */
  settled(): Promise<void> {
    return this.hpcp.settled();
  }

  /** Takes a heads announcement routed here (for routers that predate `Ledgers.onEvent`). */
  async onHead(event: RoomEvent): Promise<void> {
    await this.hpcp.onEvent(event);
  }

  async #persist(goho: Goho): Promise<void> {
    await this.#d.heads.set(goho.origin().toString(), goho.head().toString());
    this.#d.archivist?.headChanged(this.#room, goho);
    this.#d.watch?.(this.#room, goho);
  }

  #changed(goho: Goho, change: () => Promise<unknown>): Promise<void> {
    return this.#lock.exclusive(async () => {
      const before = goho.head();
      await change();
      if (goho.head().equals(before)) return;
      await this.#persist(goho);
      this.hpcp.changed(goho, before);
    });
  }
}

/** The ledgers of every mesh room of this node. */
export class Ledgers {
  readonly #d: LedgerDeps;
  readonly #rooms = new Map<RoomId, RoomLedger>();
  readonly #watchers = new Set<(room: RoomId, goho: Goho) => void>();

  constructor(d: LedgerDeps) {
    const watch = (room: RoomId, goho: Goho) => {
      for (const w of this.#watchers) w(room, goho);
    };
    this.#d = { ...d, watch };
  }

  /** Calls `fn` at every new head of any room's GOHO, local or merged. */
  onHeadChange(fn: (room: RoomId, goho: Goho) => void): void {
    this.#watchers.add(fn);
  }

  get(room: RoomId): RoomLedger {
    const l = this.#rooms.get(room);
    if (!l) throw new Error(`no ledger open for room ${room}`);
    return l;
  }

  rooms(): RoomId[] {
    return [...this.#rooms.keys()];
  }

  /** The Archivist, when this node has one. */
  get archivist(): Archivist | undefined {
    return this.#d.archivist;
  }

  /** Opens a room's ledger from the saved heads, then asks the room for newer heads. */
  async open(room: RoomId): Promise<RoomLedger> {
    const existing = this.#rooms.get(room);
    if (existing) return existing;
    const queue = await this.#openGoho(`meshbot/queue/${room}`);
    const results = await this.#openGoho(`meshbot/results/${room}`);
    const ledger = new RoomLedger(this.#d, room, queue, results);
    this.#rooms.set(room, ledger);
    for (const g of ledger.gohos) {
      if (!g.head().equals(g.origin())) this.#d.archivist?.headChanged(room, g);
    }
    ledger.hpcp.requestHeads().catch((err: unknown) => {
      this.#d.log.warn('could not ask the room for heads', { room, err });
    });
    return ledger;
  }

  /**
   * Deletes old GOHO versions. Every block of a pinned head stays, and so does every block of
   * this node's current heads (open rooms, and the saved heads of rooms not open), of the
   * latest head each admitted node announced (this one too, and the heads its next
   * announcement counts from), and of what `protect` names (the blocks the
   * node's tasks name: see taskBlocks). Files, tasks, results and engines are never touched.
   * Null when this node has no Archivist.
   */
  async collectGarbage(
    opts: {
      signal?: AbortSignal;
      protect?: (o: { signal?: AbortSignal }) => Promise<readonly CID[]>;
    } = {},
  ): Promise<GcResult | null> {
    const archivist = this.#d.archivist;
    if (!archivist) return null;
    const keep = async () => [...this.#liveHeads(), ...((await opts.protect?.(opts)) ?? [])];
    return archivist.collectGarbage(keep, opts);
  }

  #liveHeads(): CID[] {
    const keep: CID[] = [];
    for (const [room, ledger] of this.#rooms) {
      keep.push(...ledger.hpcp.ownHeads());
      for (const g of ledger.gohos) {
        keep.push(g.head());
        for (const [sender, head] of ledger.hpcp.seen.announcedBy(g.origin().toString())) {
          if (this.#d.mesh?.isNode(room, sender)) keep.push(CID.parse(head));
        }
      }
    }
    // A room left is not open, but its ledger opens from its saved heads when invited back.
    for (const [, head] of this.#d.heads.entries()) {
      const cid = cidOrUndefined(head);
      if (cid) keep.push(cid);
    }
    return keep;
  }

  /** Routes a room event to HPCP and the archivist; false when it is neither's. */
  async onEvent(room: RoomId, event: RoomEvent): Promise<boolean> {
    const ledger = this.#rooms.get(room);
    if (!ledger) return false;
    if (await ledger.hpcp.onEvent(event)) return true;
    return this.#d.archivist?.onEvent(room, event) ?? false;
  }

  async #openGoho(name: string): Promise<Goho> {
    const fresh = await createGoho(this.#d.store, { name });
    const head = this.#d.heads.get(fresh.origin().toString());
    if (!head) return fresh;
    try {
      return await openGoho(this.#d.store, fresh.origin(), CID.parse(head));
    } catch (err) {
      this.#d.log.warn('saved head unreadable; starting from the origin', { name, head, err });
      return fresh;
    }
  }
}

/**
 * The ledgers of a node as its config says: HPCP pacing and budgets, the bitswap path when
 * the store listens, and an Archivist (pins kept in `dataDir/archive.json`).
 */
export async function createLedgers(
  config: Config,
  d: Omit<LedgerDeps, 'mesh' | 'network' | 'hpcp' | 'archivist'> & {
    roster: Roster;
    admission: Admission;
    network?: PeerNetwork;
    /** The barrier `store` is guarded by, for garbage collection beside the running node. */
    barrier?: GcBarrier;
  },
): Promise<Ledgers> {
  const isNode = (room: RoomId, user: UserId) => d.admission.isNode(d.roster.view(room), user);
  const nodes = (room: RoomId) => {
    const view = d.roster.view(room);
    return view ? liveNodes(view).filter((n) => isNode(room, n)) : [];
  };
  const pins = new HeadsFile(join(config.dataDir, 'archive.json'));
  await pins.load();
  const archivist = new Archivist({
    store: d.store,
    client: d.client,
    log: d.log.child({ part: 'archivist' }),
    self: d.self,
    pins,
    isNode,
    options: { ...DEFAULT_ARCHIVIST, ...config.archive, owner: config.owner as UserId },
    barrier: d.barrier,
    signal: d.signal,
  });
  return new Ledgers({
    ...d,
    mesh: { isNode, nodes },
    network: config.lattice.listen.length > 0 ? d.network : undefined,
    hpcp: hpcpOptions(config.lattice),
    archivist,
  });
}
