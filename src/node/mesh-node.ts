import { availableParallelism, totalmem } from 'node:os';
import { RoomBlockExchange } from '../blocks/room-exchange.ts';
import type { RoomId, UserId } from '../ids.ts';
import type { RoomEvent } from '../matrix/types.ts';
import { liveNodes } from '../mesh/roster.ts';
import { EVENT, type NodeState } from '../protocol/events.ts';
import type { NodeContext } from './context.ts';
import { CoordinatorRole } from './coordinator-role.ts';
import { WorkerRole } from './worker-role.ts';

export const VERSION = '0.1.0';

/**
 * One node of the mesh: routes room events to the block exchange, the ledgers, and the
 * coordinator and worker roles; joins rooms it is invited to by admitted users.
 */
export class MeshNode {
  readonly #ctx: NodeContext;
  readonly #exchange: RoomBlockExchange;
  readonly #coordinator: CoordinatorRole;
  readonly #worker: WorkerRole;

  constructor(ctx: NodeContext) {
    this.#ctx = ctx;
    this.#exchange = new RoomBlockExchange({
      client: ctx.client,
      store: ctx.store,
      log: ctx.log.child({ part: 'blocks' }),
      rooms: () => ctx.roster.rooms(),
      admitted: (room, user) => ctx.admission.isMember(ctx.roster.view(room), user),
      maxCarBytes: ctx.config.limits.maxInputBytes,
    });
    this.#coordinator = new CoordinatorRole(ctx);
    this.#worker = new WorkerRole(ctx);
    ctx.store.addFetcher(this.#exchange);
    ctx.client.onTimeline((room, ev) => this.#onTimeline(room, ev));
    ctx.client.onInvite((room, inviter) => this.#onInvite(room, inviter));
    ctx.client.onLeave(async (room) => ctx.roster.forget(room));
  }

  get userId(): UserId {
    return this.#ctx.self;
  }

  /** Enters every room the account has joined, then starts taking events. */
  async start(): Promise<void> {
    for (const room of await this.#ctx.client.joinedRooms()) await this.enterRoom(room);
    await this.#ctx.client.start();
  }

  /** The live nodes this node sees in a room, sorted (the first is the coordinator). */
  nodesIn(room: RoomId): UserId[] {
    const view = this.#ctx.roster.view(room);
    return view ? liveNodes(view) : [];
  }

  /** Resolves when all work taken so far is done (for tests and clean shutdown). */
  idle(): Promise<void> {
    return this.#worker.idle();
  }

  /** Makes a joined room a mesh room: loads its roster and ledger and announces this node. */
  async enterRoom(room: RoomId): Promise<void> {
    const { roster, ledgers, client, self } = this.#ctx;
    await roster.load(room);
    await ledgers.open(room);
    const state = this.#nodeState();
    roster.view(room)?.members.add(self);
    try {
      await client.sendState(room, EVENT.node, self, state);
      roster.view(room)?.nodes.set(self, state);
    } catch (err) {
      await this.#cannotAnnounce(room, err);
    }
  }

  /** A room whose power levels keep this node from announcing itself gets told how to fix it. */
  async #cannotAnnounce(room: RoomId, err: unknown): Promise<void> {
    const { client, log } = this.#ctx;
    log.warn('cannot announce this node in the room', { room, err });
    if ((err as { errcode?: string }).errcode !== 'M_FORBIDDEN') return;
    const body =
      `I can't join this mesh: my power level is too low to send ${EVENT.node} state events. ` +
      `A room admin can lower that event's power level to 0 (or raise mine), then invite me again.`;
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

  async #onTimeline(room: RoomId, event: RoomEvent): Promise<void> {
    const ctx = this.#ctx;
    ctx.roster.apply(room, event);
    if (!ctx.roster.view(room)) return;
    if (await this.#exchange.onEvent(room, event)) return;
    switch (event.type) {
      case 'm.room.message':
        return this.#coordinator.onMessage(room, event);
      case EVENT.head:
        if (event.sender === ctx.self) return;
        if (!ctx.admission.isNode(ctx.roster.view(room), event.sender)) {
          ctx.log.warn('head from a sender that is not a node, ignored', {
            room,
            sender: event.sender,
          });
          return;
        }
        return ctx.ledgers.get(room).onHead(event);
      case EVENT.assign:
        return this.#worker.onAssign(room, event);
      case EVENT.complete:
        return this.#coordinator.onComplete(room, event);
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
    };
  }
}
