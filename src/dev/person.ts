/**
 * A person's Matrix client (matrix-js-sdk), as used by `meshbot dev` and the end-to-end tests:
 * creates the mesh room, invites bots, posts commands and sees the bots' replies.
 */

import {
  ClientEvent,
  createClient,
  Filter,
  type MatrixClient,
  type MatrixEvent,
  RoomEvent,
} from 'matrix-js-sdk';
import { logger as globalSdkLogger, type Logger as SdkLogger } from 'matrix-js-sdk/lib/logger.js';
import { TimeoutError } from '../errors/index.ts';
import { PROGRESS_TAG } from '../protocol/manager.ts';

export interface Message {
  roomId: string;
  eventId: string;
  sender: string;
  type: string;
  body: string;
  /** The event this one is a threaded reply to (the thread root), if any. */
  threadRoot?: string;
  inReplyTo?: string;
  content: Record<string, unknown>;
}

export interface Person {
  readonly userId: string;
  readonly client: MatrixClient;
  /** A private room; `eventLevels` sets the power level needed per event type. */
  createRoom(
    name: string,
    opts?: { invite?: string[]; eventLevels?: Record<string, number> },
  ): Promise<string>;
  send(roomId: string, body: string): Promise<string>;
  /** Every message event seen since start, oldest first. */
  readonly seen: Message[];
  onMessage(fn: (m: Message) => void): void;
  /** Waits for a message matching `pred`, looking at what was seen already too. */
  waitFor(pred: (m: Message) => boolean, timeoutMs: number): Promise<Message>;
  /**
   * Waits for the answer to `request`: a message in its thread, from one of `from` if given,
   * that is not a progress notice (long work gets one before its answer).
   */
  waitForReply(request: string, timeoutMs: number, from?: ReadonlySet<string>): Promise<Message>;
  waitForJoin(roomId: string, userId: string, timeoutMs: number): Promise<void>;
  stop(): void;
}

export async function startPerson(
  baseUrl: string,
  userId: string,
  accessToken: string,
): Promise<Person> {
  quietGlobalSdkLogger();
  const client = createClient({ baseUrl, userId, accessToken, logger: quietLogger });
  const seen: Message[] = [];
  const listeners: ((m: Message) => void)[] = [];
  client.on(RoomEvent.Timeline, (ev: MatrixEvent, room) => {
    if (!room || ev.isState()) return;
    const m = toMessage(room.roomId, ev);
    seen.push(m);
    // A copy: a listener that has its message takes itself out of the list.
    for (const l of [...listeners]) l(m);
  });
  const ready = new Promise<void>((resolve) => {
    client.on(ClientEvent.Sync, (state) => {
      if (state === 'PREPARED' || state === 'SYNCING') resolve();
    });
  });
  // A long timeline per sync: a busy mesh room must not leave gaps in what the person sees.
  const filter = new Filter(userId);
  filter.setDefinition({ room: { timeline: { limit: 1000 } } });
  await client.startClient({ initialSyncLimit: 0, threadSupport: false, filter });
  await ready;
  const waitFor = (pred: (m: Message) => boolean, timeoutMs: number) =>
    new Promise<Message>((resolve, reject) => {
      const hit = seen.find(pred);
      if (hit) return resolve(hit);
      // The listener goes once it has its message or its time is up: a long session waits
      // for thousands of replies, and each listener sees every message after it.
      const off = () => {
        const at = listeners.indexOf(listener);
        if (at >= 0) listeners.splice(at, 1);
      };
      const timer = setTimeout(() => {
        off();
        reject(new TimeoutError(`no matching message within ${timeoutMs} ms`));
      }, timeoutMs);
      const listener = (m: Message) => {
        if (!pred(m)) return;
        clearTimeout(timer);
        off();
        resolve(m);
      };
      listeners.push(listener);
    });
  return {
    userId,
    client,
    seen,
    async createRoom(name, opts = {}) {
      const { room_id } = await client.createRoom({
        name,
        invite: opts.invite ?? [],
        preset: 'private_chat' as never,
        ...(opts.eventLevels ? { power_level_content_override: { events: opts.eventLevels } } : {}),
      });
      return room_id;
    },
    async send(roomId, body) {
      const { event_id } = await client.sendEvent(
        roomId,
        'm.room.message' as never,
        { msgtype: 'm.text', body } as never,
      );
      return event_id;
    },
    onMessage: (fn) => listeners.push(fn),
    waitFor,
    waitForReply: (request, timeoutMs, from) =>
      waitFor(
        (m) =>
          m.type === 'm.room.message' &&
          m.threadRoot === request &&
          (!from || from.has(m.sender)) &&
          !isProgressNote(m),
        timeoutMs,
      ),
    async waitForJoin(roomId, member, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const { joined } = await client.getJoinedRoomMembers(roomId);
        if (joined[member]) return;
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new TimeoutError(`${member} did not join ${roomId} within ${timeoutMs} ms`);
    },
    stop: () => client.stopClient(),
  };
}

/** matrix-js-sdk is chatty at info level; a person's terminal wants only its errors. */
const quietLogger: SdkLogger = {
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: (...msg: unknown[]) => console.error('[matrix-js-sdk]', ...msg),
  getChild: () => quietLogger,
};

/**
 * Parts of matrix-js-sdk (MatrixRTC) log through its global loglevel logger, whose children
 * are made at debug level but inherit the root's method factory: keep errors only.
 */
function quietGlobalSdkLogger(): void {
  const root = globalSdkLogger as unknown as {
    methodFactory: (method: string) => (...args: unknown[]) => void;
    rebuild(): void;
  };
  root.methodFactory = (method) => (method === 'error' ? console.error : () => {});
  root.rebuild();
}

function toMessage(roomId: string, ev: MatrixEvent): Message {
  const content = (ev.getContent() ?? {}) as Record<string, unknown>;
  const rel = content['m.relates_to'] as
    | { rel_type?: string; event_id?: string; 'm.in_reply_to'?: { event_id?: string } }
    | undefined;
  return {
    roomId,
    eventId: ev.getId() ?? '',
    sender: ev.getSender() ?? '',
    type: ev.getType(),
    body: typeof content.body === 'string' ? content.body : '',
    threadRoot: rel?.rel_type === 'm.thread' ? rel.event_id : undefined,
    inReplyTo: rel?.['m.in_reply_to']?.event_id,
    content,
  };
}

/** A bot's progress notice (or an edit of one): never the answer to a request. */
export function isProgressNote(m: Message): boolean {
  return m.content[PROGRESS_TAG] !== undefined;
}
