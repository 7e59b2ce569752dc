import type { RoomId, UserId } from '../ids.ts';
import type { Logger } from '../log/logger.ts';
import type { MeshClient, RoomEvent } from '../matrix/types.ts';
import { EVENT, type NodeState, nodeStateSchema } from '../protocol/events.ts';

/** What a room's mesh looks like to this node: its joined members and the nodes among them. */
export interface RoomView {
  members: Set<UserId>;
  nodes: Map<UserId, NodeState>;
  powerLevels: Map<UserId, number>;
  powerDefault: number;
}

/**
 * Keeps, per room, the joined members, their power levels, and the node announcements
 * (`org.meshbot.node` state events a node sets about itself — one set about someone else
 * is ignored). Loaded from room state on join, then kept current from the timeline.
 */
export class Roster {
  readonly #rooms = new Map<RoomId, RoomView>();
  readonly #client: MeshClient;
  readonly #log: Logger;

  constructor(client: MeshClient, log: Logger) {
    this.#client = client;
    this.#log = log;
  }

  rooms(): RoomId[] {
    return [...this.#rooms.keys()];
  }

  view(roomId: RoomId): RoomView | undefined {
    return this.#rooms.get(roomId);
  }

  forget(roomId: RoomId): void {
    this.#rooms.delete(roomId);
  }

  async load(roomId: RoomId): Promise<RoomView> {
    const view: RoomView = {
      members: new Set(),
      nodes: new Map(),
      powerLevels: new Map(),
      powerDefault: 0,
    };
    for (const m of await this.#client.joinedMembers(roomId)) view.members.add(m);
    for (const e of (await this.#client.stateOfType(roomId, EVENT.node)).values())
      this.#applyNode(view, e);
    for (const e of (await this.#client.stateOfType(roomId, 'm.room.power_levels')).values())
      applyPower(view, e);
    this.#rooms.set(roomId, view);
    return view;
  }

  /** Applies a timeline event; state changes of interest update the view. */
  apply(roomId: RoomId, event: RoomEvent): void {
    const view = this.#rooms.get(roomId);
    if (!view || event.state_key === undefined) return;
    if (event.type === EVENT.node) this.#applyNode(view, event);
    else if (event.type === 'm.room.power_levels') applyPower(view, event);
    else if (event.type === 'm.room.member') {
      const who = event.state_key as UserId;
      if (event.content.membership === 'join') view.members.add(who);
      else {
        view.members.delete(who);
        view.nodes.delete(who);
      }
    }
  }

  #applyNode(view: RoomView, event: RoomEvent): void {
    if (event.sender !== event.state_key) return;
    const parsed = nodeStateSchema.safeParse(event.content);
    if (!parsed.success) {
      // An emptied state event is how a node withdraws; anything else malformed is logged.
      if (Object.keys(event.content).length > 0) {
        this.#log.warn('invalid node announcement ignored', { sender: event.sender });
      }
      view.nodes.delete(event.sender);
      return;
    }
    view.nodes.set(event.sender, parsed.data);
  }
}

function applyPower(view: RoomView, event: RoomEvent): void {
  const users = event.content.users;
  view.powerLevels.clear();
  if (users && typeof users === 'object') {
    for (const [u, level] of Object.entries(users)) {
      if (typeof level === 'number') view.powerLevels.set(u as UserId, level);
    }
  }
  const def = event.content.users_default;
  view.powerDefault = typeof def === 'number' ? def : 0;
}

/** The live nodes of a room: announced and still joined. */
export function liveNodes(view: RoomView): UserId[] {
  return [...view.nodes.keys()].filter((n) => view.members.has(n)).sort();
}
