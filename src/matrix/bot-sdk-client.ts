import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { asEventId, asRoomId, asUserId, type EventId, type RoomId, type UserId } from '../ids.ts';
import type { Logger } from '../log/logger.ts';
import { downloadMedia } from './media.ts';
import { mentioningNobody, threadedReply } from './reply.ts';
import { EventTooLargeError, MAX_EVENT_BYTES, withRetry } from './retry.ts';
import { type MatrixClient, SimpleFsStorageProvider } from './sdk.ts';
import { routeSdkLogs } from './sdk-logs.ts';
import { SendQueue, sendPriority } from './send-queue.ts';
import { SyncingClient } from './syncing-client.ts';
import type {
  InviteHandler,
  LeaveHandler,
  MeshClient,
  RoomEvent,
  SyncedHandler,
  TimelineHandler,
} from './types.ts';

export interface BotSdkClientOptions {
  homeserverUrl: string;
  accessToken: string;
  /** File where the sync position is kept. */
  storageFile: string;
  logger: Logger;
}

/**
 * What a bot syncs. A node reads no reactions, typing, receipts or presence, so the server
 * leaves them out: in a busy mesh room each reaction would otherwise wake every bot's sync
 * and cost the homeserver a response per bot.
 */
const SYNC_FILTER = {
  presence: { not_types: ['*'] },
  room: {
    timeline: { limit: 100, not_types: ['m.reaction'] },
    ephemeral: { not_types: ['*'] },
  },
};
/** Reactions only show state; under a rate limit they give way to work and answers. */
const REACTION_MAX_WAIT_MS = 10_000;
/** Progress notes go after everything else, reactions included. */
const COSMETIC_PRIORITY = 5;

/** MeshClient on matrix-bot-sdk. Handlers are awaited; the sync position is saved after them. */
export async function createBotSdkClient(opts: BotSdkClientOptions): Promise<MeshClient> {
  routeSdkLogs(opts.logger);
  mkdirSync(dirname(opts.storageFile), { recursive: true });
  const storage = new SimpleFsStorageProvider(opts.storageFile);
  const sdk = new SyncingClient(opts.homeserverUrl, opts.accessToken, storage, opts.logger);
  const userId = asUserId(await withRetry(() => sdk.getUserId()));
  return new BotSdkClient(sdk, userId, opts.logger);
}

class BotSdkClient implements MeshClient {
  readonly userId: UserId;
  readonly #sdk: SyncingClient;
  /** Every send of this account goes through one queue (see send-queue.ts). */
  readonly #queue: SendQueue;
  #started = false;

  constructor(sdk: SyncingClient, userId: UserId, log: Logger) {
    this.#sdk = sdk;
    this.userId = userId;
    this.#queue = new SendQueue(4, (what, waitedMs) =>
      log.info('send waited for the rate limit', { what, waitedMs }),
    );
  }

  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    // A longer timeline than the server's default 10 makes gappy syncs rare; the rest are
    // back-filled (backfill.ts).
    await withRetry(() => this.#sdk.start(SYNC_FILTER));
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    this.#sdk.stop();
    await this.#sdk.idle();
  }

  rateLimited(): boolean {
    return this.#queue.limited;
  }

  onTimeline(handler: TimelineHandler): void {
    this.#sdk.handlers.timeline.push(handler);
  }
  onInvite(handler: InviteHandler): void {
    this.#sdk.handlers.invite.push(handler);
  }
  onLeave(handler: LeaveHandler): void {
    this.#sdk.handlers.leave.push(handler);
  }
  onSynced(handler: SyncedHandler): void {
    this.#sdk.handlers.synced.push(handler);
  }

  async send(
    roomId: RoomId,
    type: string,
    content: object,
    signal?: AbortSignal,
  ): Promise<EventId> {
    const id = await this.sendBuilt(roomId, type, () => content, signal);
    return id as EventId;
  }

  async sendBuilt(
    roomId: RoomId,
    type: string,
    build: () => object | null,
    signal?: AbortSignal,
  ): Promise<EventId | null> {
    return this.#put(roomId, type, build, { priority: sendPriority(type), signal });
  }

  async sendState(roomId: RoomId, type: string, stateKey: string, content: object): Promise<void> {
    await this.#queue.run(
      sendPriority(type),
      () =>
        withRetry(() => this.#sdk.sendStateEvent(roomId, type, stateKey, content), this.#once()),
      undefined,
      type,
    );
  }

  /** Retries of transient failures inside one queue turn; rate limits go back to the queue. */
  #once(signal?: AbortSignal) {
    return { signal, rateLimits: 'throw' as const };
  }

  async reply(roomId: RoomId, to: RoomEvent, text: string, html?: string): Promise<EventId> {
    return this.send(roomId, 'm.room.message', threadedReply(to, text, html));
  }

  /** Best effort: a reaction that would wait long for the rate limit is dropped (and throws). */
  async react(roomId: RoomId, to: EventId, key: string): Promise<void> {
    const content = { 'm.relates_to': { rel_type: 'm.annotation', event_id: to, key } };
    await this.#put(roomId, 'm.reaction', () => content, {
      priority: sendPriority('m.reaction'),
      maxWaitMs: REACTION_MAX_WAIT_MS,
    });
  }

  async sendCosmetic(roomId: RoomId, type: string, content: object): Promise<EventId> {
    const id = await this.#put(roomId, type, () => content, {
      priority: COSMETIC_PRIORITY,
      maxWaitMs: REACTION_MAX_WAIT_MS,
    });
    return id as EventId;
  }

  /**
   * One event, built when the send queue gives it its turn (null: nothing to send). One
   * transaction id for every retry, so a retried send is never duplicated; a request refused
   * for the rate limit was not taken, so its id may carry newer content next time.
   */
  async #put(
    roomId: RoomId,
    type: string,
    build: () => object | null,
    opts: { priority: number; signal?: AbortSignal; maxWaitMs?: number },
  ): Promise<EventId | null> {
    const txn = `mb${Date.now().toString(36)}${randomBytes(6).toString('hex')}`;
    const path = `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/${encodeURIComponent(type)}/${txn}`;
    const res = await this.#queue.run(
      opts.priority,
      async () => {
        const built = build();
        if (built === null) return null;
        const content =
          type === 'm.room.message' ? mentioningNobody(built as Record<string, unknown>) : built;
        const size = Buffer.byteLength(JSON.stringify(content));
        if (size > MAX_EVENT_BYTES) throw new EventTooLargeError(size);
        return withRetry(
          () => this.#sdk.doRequest('PUT', path, null, content),
          this.#once(opts.signal),
        );
      },
      opts.signal,
      type,
      opts.maxWaitMs,
    );
    return res ? asEventId(res.event_id) : null;
  }

  async join(roomId: RoomId): Promise<void> {
    await withRetry(() => this.#sdk.joinRoom(roomId));
  }

  async joinedRooms(): Promise<RoomId[]> {
    return (await withRetry(() => this.#sdk.getJoinedRooms())).map(asRoomId);
  }

  async joinedMembers(roomId: RoomId): Promise<UserId[]> {
    return (await withRetry(() => this.#sdk.getJoinedRoomMembers(roomId))).map(asUserId);
  }

  async stateOfType(roomId: RoomId, type: string): Promise<Map<string, RoomEvent>> {
    const all = (await withRetry(() => this.#sdk.getRoomState(roomId))) as RoomEvent[];
    return new Map(all.filter((e) => e.type === type).map((e) => [e.state_key ?? '', e]));
  }

  async powerLevel(roomId: RoomId, user: UserId): Promise<number> {
    const pl = await withRetry(() =>
      this.#sdk.getRoomStateEvent(roomId, 'm.room.power_levels', ''),
    );
    const users = (pl?.users ?? {}) as Record<string, number>;
    return users[user] ?? (pl?.users_default as number | undefined) ?? 0;
  }

  async getEvent(roomId: RoomId, eventId: EventId): Promise<RoomEvent> {
    return (await withRetry(() => this.#sdk.getEvent(roomId, eventId))) as RoomEvent;
  }

  async upload(bytes: Uint8Array, contentType: string): Promise<string> {
    return withRetry(() => this.#sdk.uploadContent(Buffer.from(bytes), contentType));
  }

  async download(mxc: string, maxBytes: number, signal?: AbortSignal): Promise<Uint8Array> {
    const source = { homeserverUrl: this.#sdk.homeserverUrl, accessToken: this.#sdk.accessToken };
    return withRetry(() => downloadMedia(source, mxc, { maxBytes, signal }), { signal });
  }
}

export type { MatrixClient };
