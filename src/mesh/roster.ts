import type { RoomId, UserId } from '../ids.ts';
import type { Logger } from '../log/logger.ts';
import { redactedId } from '../matrix/redaction.ts';
import type { MeshClient, RoomEvent } from '../matrix/types.ts';
import { EVENT, type NodeState, nodeStateSchema } from '../protocol/events.ts';
import { creationOf } from './creators.ts';

/** What a room's mesh looks like to this node: its joined members and the nodes among them. */
export interface RoomView {
  members: Set<UserId>;
  nodes: Map<UserId, NodeState>;
  powerLevels: Map<UserId, number>;
  powerDefault: number;
  /** Users above every power level: a room's creators from room version 12 (creators.ts). */
  creators?: Set<UserId>;
}

/** A member's power level in a room as the homeserver reckons it. */
export function powerOf(view: RoomView, user: UserId): number {
  if (view.creators?.has(user)) return Number.POSITIVE_INFINITY;
  return view.powerLevels.get(user) ?? view.powerDefault;
}

/** The power level `m.room.power_levels` asks to redact others' events when it names none. */
const DEFAULT_REDACT_LEVEL = 50;

/** What the roster keeps of a room beside its view: to tell which redactions withdraw a node. */
interface RoomTrace {
  /** The event that holds each node's announcement now. */
  announcements: Map<UserId, string>;
  /** The power level the room asks to redact another's event. */
  redactLevel: number;
}

/**
 * Keeps, per room, the joined members, their power levels, and the node announcements
 * (`org.meshbot.node` state events a node sets about itself — one set about someone else
 * is ignored). Loaded from room state on join, then kept current from the timeline; a
 * redaction of a node's announcement withdraws it, as the room's state shows it after.
 */
export class Roster {
  readonly #rooms = new Map<RoomId, RoomView>();
  readonly #traces = new Map<RoomId, RoomTrace>();
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
    this.#traces.delete(roomId);
  }

  async load(roomId: RoomId): Promise<RoomView> {
    const view: RoomView = {
      members: new Set(),
      nodes: new Map(),
      powerLevels: new Map(),
      powerDefault: 0,
    };
    const trace: RoomTrace = { announcements: new Map(), redactLevel: DEFAULT_REDACT_LEVEL };
    for (const m of await this.#client.joinedMembers(roomId)) view.members.add(m);
    for (const e of (await this.#client.stateOfType(roomId, EVENT.node)).values())
      this.#applyNode(view, trace, e);
    const creation = creationOf((await this.#client.stateOfType(roomId, 'm.room.create')).get(''));
    view.creators = creation.creators;
    const power = (await this.#client.stateOfType(roomId, 'm.room.power_levels')).get('');
    if (power) applyPower(view, trace, power);
    else if (creation.creator) view.powerLevels.set(creation.creator, 100);
    this.#rooms.set(roomId, view);
    this.#traces.set(roomId, trace);
    return view;
  }

  /** Applies a timeline event; state changes of interest update the view. */
  apply(roomId: RoomId, event: RoomEvent): void {
    const view = this.#rooms.get(roomId);
    const trace = this.#traces.get(roomId);
    if (!view || !trace || event.state_key === undefined) return;
    if (event.type === EVENT.node) this.#applyNode(view, trace, event);
    // Only the event at state key '' is the room's power levels (as load reads them).
    else if (event.type === 'm.room.power_levels') {
      if (event.state_key === '') applyPower(view, trace, event);
    } else if (event.type === 'm.room.member') {
      const who = event.state_key as UserId;
      if (event.content.membership === 'join') view.members.add(who);
      else {
        view.members.delete(who);
        view.nodes.delete(who);
        trace.announcements.delete(who);
      }
    }
  }

  #applyNode(view: RoomView, trace: RoomTrace, event: RoomEvent): void {
    if (event.sender !== event.state_key) return;
    trace.announcements.set(event.sender, event.event_id);
    const parsed = nodeStateSchema.safeParse(event.content);
    if (!parsed.success) {
      // An emptied state event is how a node withdraws (a redacted one reads the same);
      // anything else malformed is logged.
      if (Object.keys(event.content).length > 0) {
        this.#log.warn('invalid node announcement ignored', { sender: event.sender });
      }
      view.nodes.delete(event.sender);
      return;
    }
    view.nodes.set(event.sender, parsed.data);
  }

  /**
   * Applies an `m.room.redaction`: one of a node's current announcement withdraws the node,
   * as the room's state reads once the homeserver applied it (until the node announces
   * itself again). A homeserver applies it only when its sender is the node itself or may
   * redact others' events; a node sees the redaction event alone, so it asks the same of it.
   * Returns the node withdrawn, if any.
   */
  redact(roomId: RoomId, event: RoomEvent): UserId | undefined {
    const view = this.#rooms.get(roomId);
    const trace = this.#traces.get(roomId);
    const redacted = redactedId(event);
    if (!view || !trace || redacted === undefined) return undefined;
    for (const [node, id] of trace.announcements) {
      if (id !== redacted) continue;
      if (event.sender !== node && powerOf(view, event.sender) < trace.redactLevel)
        return undefined;
      trace.announcements.delete(node);
      if (!view.nodes.delete(node)) return undefined;
      this.#log.info('a node announcement was deleted: the node is withdrawn', {
        room: roomId,
        node,
        by: event.sender,
      });
      return node;
    }
    return undefined;
  }
}

function applyPower(view: RoomView, trace: RoomTrace, event: RoomEvent): void {
  trace.redactLevel = asLevel(event.content.redact) ?? DEFAULT_REDACT_LEVEL;
  const users = event.content.users;
  view.powerLevels.clear();
  if (users && typeof users === 'object') {
    for (const [u, value] of Object.entries(users)) {
      const level = asLevel(value);
      if (level !== undefined) view.powerLevels.set(u as UserId, level);
    }
  }
  view.powerDefault = asLevel(event.content.users_default) ?? 0;
}

/**
 * A power level as the homeserver reads it: a number, or in rooms before version 10 also a
 * string of digits (`"50"`), which Synapse takes as that number. Read as absent, a member
 * lowered to `"0"` under a higher `users_default` would count at that default.
 */
export function asLevel(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return Number(value);
  return undefined;
}

/** The live nodes of a room: announced and still joined. */
export function liveNodes(view: RoomView): UserId[] {
  return [...view.nodes.keys()].filter((n) => view.members.has(n)).sort();
}
