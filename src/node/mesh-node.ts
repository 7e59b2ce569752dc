import { availableParallelism, totalmem } from 'node:os';
import type { CID } from 'multiformats/cid';
import { RoomBlockExchange } from '../blocks/room-exchange.ts';
import type { TaskRecord } from '../coordinator/task-record.ts';
import type { RoomId, UserId } from '../ids.ts';
import type { RoomEvent } from '../matrix/types.ts';
import { assignSchema, EVENT, type NodeState } from '../protocol/events.ts';
import { MESH_EVENT } from '../protocol/manager.ts';
import { applyBookEvent, applyReply, BOOK_EVENTS } from './book-events.ts';
import type { NodeContext } from './context.ts';
import { CoordinatorRole } from './coordinator-role.ts';
import { MeshRoom } from './mesh-room.ts';
import { takeOwnReports } from './own-reports.ts';
import { ensureMeshPowerLevels } from './power-levels.ts';
import { applyRedaction } from './redactions.ts';
import { taskBlocks } from './task-blocks.ts';
import { WorkerRole } from './worker-role.ts';

export const VERSION = '0.2.0';

/**
 * One node of the mesh: routes room events to the block exchange, the ledgers, the Manager's
 * book and the coordinator and worker roles; joins rooms it is invited to by admitted users;
 * re-announces itself (load, liveness) every heartbeat.
 */
export class MeshNode {
  readonly #ctx: NodeContext;
  readonly #exchange: RoomBlockExchange;
  readonly #coordinator: CoordinatorRole;
  readonly #worker: WorkerRole;
  readonly #rooms = new Map<RoomId, MeshRoom>();
  #heartbeat: NodeJS.Timeout | undefined;
  /** Rooms told that this node may not announce itself there (and not told again). */
  readonly #forbidden = new Set<RoomId>();
  /** The Whisper models on this node, as announced. */
  #models: NonNullable<NodeState['models']> = [];

  constructor(ctx: NodeContext) {
    this.#ctx = ctx;
    this.#exchange = new RoomBlockExchange({
      client: ctx.client,
      store: ctx.store,
      log: ctx.log.child({ part: 'blocks' }),
      rooms: () => ctx.roster.rooms(),
      admitted: (room, user) => ctx.admission.isNode(ctx.roster.view(room), user),
      // Only nodes fetch blocks; answering anyone else would let any member make us upload.
      servesWants: (room, user) => ctx.admission.isNode(ctx.roster.view(room), user),
      maxCarBytes: ctx.config.limits.maxInputBytes,
    });
    this.#worker = new WorkerRole(ctx, (room, reports) => {
      // Most of this node's own reports count at once; the room's echo is then a no-op.
      takeOwnReports(room.book, ctx.self, reports, ctx.config.mesh, Date.now());
      room.changed();
      this.#coordinator.poke(room);
      // A run may have fetched a model: peers then fetch it from here.
      void this.#refreshModels().then((changed) => {
        if (changed) for (const r of this.#rooms.keys()) void this.#announce(r);
      });
    });
    this.#coordinator = new CoordinatorRole(ctx, () => [...this.#rooms.values()]);
    ctx.ledgers.onHeadChange?.((roomId, goho) => {
      const room = this.#rooms.get(roomId);
      const results = ctx.ledgers.get(roomId).resultsGoho;
      if (room && goho.origin().equals(results.origin())) this.#coordinator.onResults(room);
    });
    ctx.store.addFetcher(this.#exchange);
    ctx.client.onTimeline((room, ev) => this.#onTimeline(room, ev));
    ctx.client.onInvite((room, inviter) => this.#onInvite(room, inviter));
    ctx.client.onLeave(async (room) => {
      ctx.roster.forget(room);
      // What changed since the last sync is kept: invited back, the node loads it again.
      await this.#rooms
        .get(room)
        ?.flush()
        .catch((err: unknown) => ctx.log.warn('could not save the book of a room left', { err }));
      this.#rooms.delete(room);
      this.#coordinator.forget(room);
      // Invited again, it tells the room again if it still may not announce itself.
      this.#forbidden.delete(room);
      // The room now refuses what this node sends there; what it held there must not
      // count in the load it announces elsewhere.
      const dropped = this.#worker.leave(room);
      ctx.log.info('left a room: what this node held there is dropped', { room, ...dropped });
    });
    ctx.client.onSynced?.(async () => {
      for (const room of this.#rooms.values()) await room.flush();
    });
  }

  get userId(): UserId {
    return this.#ctx.self;
  }

  /** Enters every room the account has joined, then starts taking events. */
  async start(): Promise<void> {
    await this.#refreshModels();
    for (const room of await this.#ctx.client.joinedRooms()) await this.enterRoom(room);
    await this.#ctx.client.start();
    this.#worker.start();
    this.#coordinator.start();
    this.#heartbeat ??= setInterval(() => {
      if (this.#ctx.signal.aborted) return clearInterval(this.#heartbeat);
      for (const room of this.#rooms.keys()) void this.#announce(room);
    }, this.#ctx.config.mesh.heartbeatMs);
    this.#heartbeat.unref();
  }

  /** The live nodes this node sees in a room, sorted. */
  nodesIn(room: RoomId): UserId[] {
    return this.#rooms.get(room)?.liveNodes() ?? [];
  }

  /** The coordinator of a room as this node sees it, and whether this node is acting as it. */
  coordinatorOf(room: RoomId): { holder?: UserId; term: number; acting: boolean } {
    const r = this.#rooms.get(room);
    const lease = r?.election.clock.current;
    return {
      holder: lease?.holder as UserId | undefined,
      term: lease?.term ?? 0,
      acting: r?.election.acting() ?? false,
    };
  }

  /** Copies of this node's book of a room's tasks (for diagnostics and tests). */
  tasksIn(room: RoomId): TaskRecord[] {
    return structuredClone(this.#rooms.get(room)?.book.all() ?? []);
  }

  /** The blocks the tasks in this node's books name; garbage collection keeps them. */
  taskBlocks(opts: { signal?: AbortSignal } = {}): Promise<CID[]> {
    const records = [...this.#rooms.values()].flatMap((r) => r.book.all());
    return taskBlocks(records, this.#ctx.store, opts);
  }

  /** Resolves when all work taken so far is done (for tests and clean shutdown). */
  async idle(): Promise<void> {
    await this.#worker.idle();
    await this.#coordinator.idle();
  }

  /** Makes a joined room a mesh room: loads its roster, ledger and book, announces this node. */
  async enterRoom(room: RoomId): Promise<void> {
    const { roster, ledgers, self } = this.#ctx;
    await roster.load(room);
    await ledgers.open(room);
    const mesh = this.#rooms.get(room) ?? new MeshRoom(this.#ctx, room);
    // However a cancel reaches the book (the coordinator's own withdrawal, its cancel event,
    // a deleted request), or another node's report settles the task, the task's run here
    // stops then, not when it would have ended.
    mesh.book.onSettled((task, why) => this.#worker.onSettled(mesh, task, why));
    await mesh.load();
    this.#rooms.set(room, mesh);
    roster.view(room)?.members.add(self);
    await this.#announce(room);
    await ensureMeshPowerLevels(this.#ctx, room).catch((err: unknown) =>
      this.#ctx.log.warn('could not set the mesh power levels', { room, err }),
    );
  }

  async #announce(room: RoomId): Promise<void> {
    const state = this.#nodeState();
    try {
      await this.#ctx.client.sendState(room, EVENT.node, this.#ctx.self, state);
      this.#ctx.roster.view(room)?.nodes.set(this.#ctx.self, state);
      this.#forbidden.delete(room);
    } catch (err) {
      await this.#cannotAnnounce(room, err);
    }
  }

  /**
   * A room whose power levels keep this node from announcing itself gets told how to fix it,
   * once: not at every heartbeat. The node tries again at each heartbeat, and at once when
   * the room's power levels change.
   */
  async #cannotAnnounce(room: RoomId, err: unknown): Promise<void> {
    const { client, log } = this.#ctx;
    const forbidden = (err as { errcode?: string }).errcode === 'M_FORBIDDEN';
    if (forbidden && this.#forbidden.has(room)) return;
    log.warn('cannot announce this node in the room', { room, err });
    if (!forbidden) return;
    this.#forbidden.add(room);
    const body =
      `I can't join this mesh: my power level is too low to send ${EVENT.node} state events. ` +
      `A room admin can lower the power level of ${EVENT.node} and ${MESH_EVENT.lease} to 0 ` +
      '(or raise mine): I try again as soon as the power levels change.';
    await client.send(room, 'm.room.message', { msgtype: 'm.notice', body }).catch(() => {});
  }

  async #onInvite(room: RoomId, inviter: UserId): Promise<void> {
    const { admission, client, log } = this.#ctx;
    if (!admission.mayInvite(inviter)) {
      log.warn('invite from a user who is not admitted, ignored', { room, inviter });
      return;
    }
    log.info('joining room on invite', { room, inviter });
    await client.join(room);
    await this.enterRoom(room);
  }

  async #onTimeline(roomId: RoomId, event: RoomEvent): Promise<void> {
    const ctx = this.#ctx;
    // Every handler reads `content` (a redacted event keeps an empty one).
    if (typeof event.content !== 'object' || event.content === null) {
      const fields = { room: roomId, type: event.type, sender: event.sender };
      ctx.log.info('event without content dropped', fields);
      return;
    }
    ctx.roster.apply(roomId, event);
    const room = this.#rooms.get(roomId);
    if (!room || !ctx.roster.view(roomId)) return;
    if (event.type === 'm.room.power_levels' && this.#forbidden.has(roomId)) {
      void this.#announce(roomId);
    }
    if (await this.#exchange.onEvent(roomId, event)) return;
    if (event.type === 'm.room.member') return this.#onMember(room, event);
    if (event.type === EVENT.node && event.sender === event.state_key) room.heard(event.sender);
    if (event.type === MESH_EVENT.settings) {
      if (!room.applySettings(event))
        ctx.log.warn('room settings ignored', { sender: event.sender });
      return;
    }
    if (event.type === 'm.room.redaction') {
      // This node's own announcement deleted: it announces itself again at once, rather than
      // at the next heartbeat, so that the other nodes drop its events for a moment only.
      if (ctx.roster.redact(roomId, event) === ctx.self) void this.#announce(roomId);
      if (applyRedaction(ctx, room, event)) this.#coordinator.poke(room);
      return;
    }
    if (event.type === 'm.room.message') {
      applyReply(ctx, room, event);
      this.#coordinator.onMessage(room, event);
      return;
    }
    if (await this.#onLedgerEvent(roomId, event)) return;
    // This node's own Manager events count too: its lease comes back this way, and so do its
    // assignments to itself, which it runs only if the room's order let them stand.
    if (!BOOK_EVENTS.has(event.type)) return;
    if (!(await applyBookEvent(ctx, room, event))) return;
    if (event.type === EVENT.assign) {
      const parsed = assignSchema.safeParse(event.content);
      if (parsed.success) this.#worker.onAssign(room, parsed.data);
    }
    if (event.type === MESH_EVENT.lease) void room.election.tick();
    // A finished task may be the output a pipeline's next stage waits for, on every node.
    if (event.type === EVENT.complete) this.#coordinator.onResults(room);
    this.#coordinator.poke(room);
  }

  #onMember(room: MeshRoom, event: RoomEvent): void {
    const who = event.state_key as UserId;
    if (event.content.membership === 'join') return;
    // A node that left or was kicked is out: whatever it held goes back to the queue.
    room.book.dropWorker(who, Date.now());
    room.changed();
    this.#coordinator.poke(room);
  }

  /**
   * HPCP heads and the other events the ledgers route. Works with the ledgers routing their
   * own events (`onEvent`) and with the older API that took heads one by one (`onHead`).
   */
  async #onLedgerEvent(roomId: RoomId, event: RoomEvent): Promise<boolean> {
    const ctx = this.#ctx;
    const ledgers = ctx.ledgers as unknown as {
      onEvent?: (room: RoomId, event: RoomEvent) => Promise<boolean>;
      get(room: RoomId): { onHead?: (event: RoomEvent) => Promise<void> };
    };
    if (event.sender !== ctx.self && ctx.admission.isNode(ctx.roster.view(roomId), event.sender)) {
      this.#rooms.get(roomId)?.heard(event.sender);
    }
    if (ledgers.onEvent) return ledgers.onEvent(roomId, event);
    if (event.type !== EVENT.head) return false;
    if (event.sender === ctx.self) return true;
    if (!ctx.admission.isNode(ctx.roster.view(roomId), event.sender)) {
      ctx.log.warn('head from a sender that is not a node, ignored', {
        room: roomId,
        sender: event.sender,
      });
      return true;
    }
    await ledgers.get(roomId).onHead?.(event);
    return true;
  }

  /** Re-reads the models on disk; whether they changed since the last look. */
  async #refreshModels(): Promise<boolean> {
    const models = this.#ctx.models;
    if (!models) return false;
    try {
      const now = (await models.local()).slice(0, 100);
      const changed = JSON.stringify(now) !== JSON.stringify(this.#models);
      this.#models = now;
      return changed;
    } catch (err) {
      this.#ctx.log.warn('could not list the whisper models', { err });
      return false;
    }
  }

  #nodeState(): NodeState {
    return {
      version: VERSION,
      engines: this.#ctx.runtime.offers(),
      runtimes: this.#ctx.runtime.kinds(),
      cores: availableParallelism(),
      arch: process.arch,
      memoryMb: Math.round(totalmem() / 2 ** 20),
      gpu: false,
      capacity: 1,
      load: this.#worker.load,
      ts: Date.now(),
      owner: this.#ctx.config.owner,
      ...(this.#models.length > 0 ? { models: this.#models } : {}),
    };
  }
}
