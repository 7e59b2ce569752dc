import { asRoomId, asUserId } from '../ids.ts';
import type { Logger } from '../log/logger.ts';
import { fillGap, type GappyRoom } from './backfill.ts';
import { fromOwnJoin } from './own-join.ts';
import { MatrixClient, type SimpleFsStorageProvider } from './sdk.ts';
import type {
  InviteHandler,
  LeaveHandler,
  RoomEvent,
  SyncedHandler,
  TimelineHandler,
} from './types.ts';

type Emit = (name: string, ...args: unknown[]) => Promise<void>;
type SyncRoom = GappyRoom & { state?: { events?: RoomEvent[] } };
type SyncResponse = { rooms?: { join?: Record<string, SyncRoom> } };

const SEEN_LIMIT = 10_000;
const SLOW_BATCH_MS = 3_000;

/** Fields matrix-bot-sdk keeps private in its types but that this subclass must read. */
interface Internals {
  lastJoinedRoomIds: string[];
  userId: string;
}

/**
 * matrix-bot-sdk's client with three changes: handlers are awaited (so the sync position is
 * persisted only after they ran), history is not treated as new (the first sync of a new
 * account, and a room's events from before our join), and duplicate deliveries are dropped.
 */
export class SyncingClient extends MatrixClient {
  readonly handlers = {
    timeline: [] as TimelineHandler[],
    invite: [] as InviteHandler[],
    leave: [] as LeaveHandler[],
    synced: [] as SyncedHandler[],
  };
  readonly #log: Logger;
  readonly #seen = new Set<string>();
  #historical = false;
  #inFlight: Promise<void> = Promise.resolve();
  /** The position the batch being handled was asked from (null: the first sync). */
  #since: string | null | undefined;
  /** Set when a batch failed: the position the next sync must ask from again. */
  #replay: { since: string | null } | undefined;

  constructor(url: string, token: string, storage: SimpleFsStorageProvider, log: Logger) {
    super(url, token, storage);
    this.#log = log;
    this.persistTokenAfterSync = true;
  }

  override startSyncInternal(): Promise<void> {
    return this.startSync((name: string, ...args: unknown[]) => this.#dispatch(name, ...args));
  }

  override async startSync(emitFn?: Emit): Promise<void> {
    this.#historical = !(await Promise.resolve(this.storageProvider.getSyncToken()));
    return super.startSync(emitFn);
  }

  /**
   * matrix-bot-sdk moves its position past a batch before handling it, and a batch that fails
   * (a gap not back-filled, a book not saved) would be skipped for good: the next good batch
   * saves a position past it. So after a failure the next sync asks from the same position
   * again; what the failed batch had handed on already is dropped as seen.
   */
  protected override doSync(token: string): Promise<unknown> {
    const since = this.#replay ? this.#replay.since : (token ?? null);
    this.#replay = undefined;
    this.#since = since;
    // The first sync of a new account asked again is history again.
    if (since === null) this.#historical = true;
    return super.doSync(since as string);
  }

  override async processSync(raw: unknown, emitFn?: Emit): Promise<void> {
    let done!: () => void;
    this.#inFlight = new Promise((r) => (done = r));
    const started = Date.now();
    try {
      await this.#handle(raw, emitFn);
    } catch (err) {
      if (this.#since !== undefined) this.#replay = { since: this.#since };
      throw err;
    } finally {
      const took = Date.now() - started;
      // Handlers must not wait on the network: a slow batch delays every node's view.
      if (took > SLOW_BATCH_MS) this.#log.warn('slow sync batch', { ms: took });
      this.#historical = false;
      done();
    }
  }

  async #handle(raw: unknown, emitFn?: Emit): Promise<void> {
    await this.#fillGaps(raw as SyncResponse);
    this.#keepFromOwnJoin(raw as SyncResponse);
    await super.processSync(raw, emitFn);
    for (const h of this.handlers.synced) {
      // A failure here must keep the position unsaved, so the batch comes again (doSync).
      await h();
    }
  }

  /** Resolves once the batch being processed (if any) is done. */
  idle(): Promise<void> {
    return this.#inFlight;
  }

  /** Puts the events a limited sync left out in front of its timeline (see backfill.ts). */
  async #fillGaps(raw: SyncResponse): Promise<void> {
    const since = await Promise.resolve(this.storageProvider.getSyncToken());
    if (!since || this.#historical) return;
    const get = (path: string, qs: Record<string, unknown>) => this.doRequest('GET', path, qs);
    const self = this as unknown as Internals;
    for (const [roomId, room] of Object.entries(raw?.rooms?.join ?? {})) {
      if (!room.timeline?.limited) continue;
      // A gap before our own join holds nothing but history from before it.
      if (fromOwnJoin(room.timeline.events ?? [], self.userId).sawJoin) continue;
      const { events, complete } = await fillGap(get, roomId, room, since);
      this.#log.info('gappy sync back-filled', { roomId, events: events.length, complete });
      // The gap's oldest part is given up: what it changed in the room's state (a demotion, a
      // kick) would never reach the roster, and who may run work would be judged on a stale
      // view until a restart. The sync's `state` holds every state change of the gap, at its
      // end: it goes first, so that the newer events fetched may change it again.
      const lost = complete ? [] : stateNotIn(room, events);
      room.timeline.events = [...lost, ...events, ...(room.timeline.events ?? [])];
    }
  }

  /**
   * Cuts what each joined room's timeline (back-filled gap included) holds from before our
   * latest join: a room joined since the last sync comes with its earlier history, and an
   * old `!run` in it must not run. The joined-room list cannot decide this alone: at start
   * it is the server's current list, so it already holds a room joined just before a crash.
   * A room whose join is not in sight was joined before everything left, so all of it counts.
   */
  #keepFromOwnJoin(raw: SyncResponse): void {
    const self = this as unknown as Internals;
    for (const [roomId, room] of Object.entries(raw?.rooms?.join ?? {})) {
      const { events, sawJoin } = fromOwnJoin(room.timeline?.events ?? [], self.userId);
      if (room.timeline?.events) room.timeline.events = events;
      if (!sawJoin && !self.lastJoinedRoomIds.includes(roomId)) self.lastJoinedRoomIds.push(roomId);
    }
  }

  async #dispatch(name: string, ...args: unknown[]): Promise<void> {
    try {
      if (name === 'room.invite') {
        const [roomId, event] = args as [string, RoomEvent];
        for (const h of this.handlers.invite) await h(asRoomId(roomId), asUserId(event.sender));
      } else if (name === 'room.leave') {
        for (const h of this.handlers.leave) await h(asRoomId(args[0] as string));
      } else if (name === 'room.event') {
        const [roomId, event] = args as [string, RoomEvent];
        if (!this.#isLive(roomId, event)) return;
        for (const h of this.handlers.timeline) await h(asRoomId(roomId), event);
      }
    } catch (err) {
      // A handler failure must never stop the sync loop or skip the rest of the batch.
      this.#log.error('event handler failed', { event: name, err });
    }
  }

  #isLive(roomId: string, event: RoomEvent): boolean {
    const joined = (this as unknown as Internals).lastJoinedRoomIds;
    if (this.#historical || !joined.includes(roomId)) return false;
    if (typeof event?.event_id !== 'string' || this.#seen.has(event.event_id)) return false;
    this.#seen.add(event.event_id);
    if (this.#seen.size > SEEN_LIMIT) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
    return true;
  }
}

/** The state events of a sync's `state` section that the back-filled events do not hold. */
function stateNotIn(room: SyncRoom, fetched: readonly RoomEvent[]): RoomEvent[] {
  const have = new Set(fetched.map((e) => e.event_id));
  return (room.state?.events ?? []).filter(
    (e) => e?.state_key !== undefined && !have.has(e.event_id),
  );
}
