import type { EventId, RoomId, UserId } from '../ids.ts';

/** A room event as the client-server API delivers it, before validation of its content. */
export interface RoomEvent {
  type: string;
  event_id: EventId;
  sender: UserId;
  origin_server_ts: number;
  content: Record<string, unknown>;
  state_key?: string;
  unsigned?: Record<string, unknown>;
}

export type TimelineHandler = (roomId: RoomId, event: RoomEvent) => Promise<void>;
export type InviteHandler = (roomId: RoomId, inviter: UserId) => Promise<void>;
export type LeaveHandler = (roomId: RoomId) => Promise<void>;
/** Runs after a sync batch was handled, before its position is saved. */
export type SyncedHandler = () => Promise<void>;

/** What the mesh needs from a Matrix connection; tests may fake it behind this interface. */
export interface MeshClient {
  readonly userId: UserId;
  start(): Promise<void>;
  stop(): Promise<void>;
  onTimeline(handler: TimelineHandler): void;
  onInvite(handler: InviteHandler): void;
  onLeave(handler: LeaveHandler): void;
  /** Whether the homeserver rate-limited this account lately (then every event counts). */
  rateLimited?(): boolean;
  /** After each sync batch's events were handled and before the sync position is saved. */
  onSynced?(handler: SyncedHandler): void;
  /** Sends a room event; retried on rate limits with a stable transaction id. */
  send(roomId: RoomId, type: string, content: object, signal?: AbortSignal): Promise<EventId>;
  /**
   * Sends an event whose content is built when its turn comes (after any rate-limit wait),
   * so it carries everything gathered meanwhile; `build` returning null sends nothing.
   */
  sendBuilt?(
    roomId: RoomId,
    type: string,
    build: () => object | null,
    signal?: AbortSignal,
  ): Promise<EventId | null>;
  sendState(roomId: RoomId, type: string, stateKey: string, content: object): Promise<void>;
  /** A threaded reply (falls back to a plain reply in clients without threads). */
  reply(roomId: RoomId, to: RoomEvent, text: string, html?: string): Promise<EventId>;
  /** Best effort: may be dropped (with a throw) when the rate limit leaves no room for it. */
  react(roomId: RoomId, to: EventId, key: string): Promise<void>;
  /** A cosmetic event (progress), sent after everything else and dropped (throws) if late. */
  sendCosmetic?(roomId: RoomId, type: string, content: object): Promise<EventId>;
  join(roomId: RoomId): Promise<void>;
  joinedRooms(): Promise<RoomId[]>;
  joinedMembers(roomId: RoomId): Promise<UserId[]>;
  /** Current state events of one type in a room, keyed by state key. */
  stateOfType(roomId: RoomId, type: string): Promise<Map<string, RoomEvent>>;
  powerLevel(roomId: RoomId, user: UserId): Promise<number>;
  /** One event of a room (the message a command replies to). */
  getEvent?(roomId: RoomId, eventId: EventId): Promise<RoomEvent>;
  upload(bytes: Uint8Array, contentType: string, signal?: AbortSignal): Promise<string>;
  download(mxc: string, maxBytes: number, signal?: AbortSignal): Promise<Uint8Array>;
}
