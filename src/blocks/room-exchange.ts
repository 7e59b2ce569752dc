import { randomBytes } from 'node:crypto';
import { CarReader } from '@ipld/car';
import { CID } from 'multiformats/cid';
import type { RoomId, UserId } from '../ids.ts';
import type { Logger } from '../log/logger.ts';
import type { MeshClient, RoomEvent } from '../matrix/types.ts';
import { blocksSchema, EVENT, type WantEvent, wantSchema } from '../protocol/events.ts';
import type { BlockFetcher, Store } from '../store/types.ts';
import { answerWant } from './answer.ts';
import { decodeInline } from './codec.ts';

export interface RoomExchangeOptions {
  client: MeshClient;
  store: Store;
  log: Logger;
  /** The rooms a want is sent to (the node's mesh rooms). */
  rooms: () => RoomId[];
  /** Whether a sender's blocks count in a room (they are verified against their CIDs). */
  admitted: (roomId: RoomId, user: UserId) => boolean;
  /** Whether a sender's wants are answered in a room: answering costs uploads and sends. */
  servesWants: (roomId: RoomId, user: UserId) => boolean;
  /** Answers prepared or sent at once; a want beyond them is dropped. Default 4. */
  maxAnswers?: number;
  /** Largest CAR file downloaded for one answer, bytes. */
  maxCarBytes: number;
}

const MAX_ANSWERS = 4;

interface Waiter {
  resolve: (bytes: Uint8Array) => void;
}

/**
 * Moves blocks through the room itself — the path that works between friends behind NAT.
 * As a fetcher it sends a want and waits for an answer; as a responder it answers others'
 * wants with the whole DAG below each wanted CID (inline when small, else a CAR in media).
 * Blocks are only taken in answer to our own wants (matched by nonce), and every block is
 * verified by the store before it is kept. Wants are answered in the background, so a flood
 * of them never holds up the timeline: one answer per sender and CIDs at a time, and only a
 * few at once.
 */
export class RoomBlockExchange implements BlockFetcher {
  readonly name = 'matrix-room';
  readonly #o: RoomExchangeOptions;
  readonly #nonces = new Set<string>();
  readonly #waiters = new Map<string, Waiter[]>();
  /** The answers in flight, by room, sender and CIDs. */
  readonly #answering = new Map<string, Promise<void>>();

  constructor(opts: RoomExchangeOptions) {
    this.#o = opts;
  }

  async fetch(cid: CID, opts: { signal: AbortSignal }): Promise<Uint8Array> {
    const key = cid.toString();
    const nonce = randomBytes(8).toString('hex');
    this.#nonces.add(nonce);
    const got = new Promise<Uint8Array>((resolve, reject) => {
      const list = this.#waiters.get(key) ?? [];
      list.push({ resolve });
      this.#waiters.set(key, list);
      opts.signal.addEventListener('abort', () => reject(opts.signal.reason), { once: true });
    });
    try {
      for (const room of this.#o.rooms()) {
        await this.#o.client.send(room, EVENT.want, { cids: [key], nonce }, opts.signal);
      }
      return await got;
    } finally {
      this.#nonces.delete(nonce);
      this.#waiters.delete(key);
    }
  }

  /** Feed every timeline event here; returns true when the event was a block-exchange event. */
  async onEvent(roomId: RoomId, event: RoomEvent): Promise<boolean> {
    if (event.type !== EVENT.want && event.type !== EVENT.blocks) return false;
    if (event.sender === this.#o.client.userId) return true;
    const admitted = event.type === EVENT.want ? this.#o.servesWants : this.#o.admitted;
    if (!admitted(roomId, event.sender)) {
      this.#o.log.warn('block event from a sender not admitted, ignored', {
        roomId,
        sender: event.sender,
        type: event.type,
      });
      return true;
    }
    if (event.type === EVENT.want) {
      const want = wantSchema.safeParse(event.content);
      if (!want.success) return this.#invalid(event);
      this.#answer(roomId, event.sender, want.data);
    } else {
      const blocks = blocksSchema.safeParse(event.content);
      if (!blocks.success) return this.#invalid(event);
      if (this.#nonces.has(blocks.data.nonce))
        await this.#take(blocks.data.blocks, blocks.data.car);
    }
    return true;
  }

  /** Resolves once the answers in flight now are sent (or failed). */
  async idle(): Promise<void> {
    await Promise.all(this.#answering.values());
  }

  #answer(roomId: RoomId, sender: UserId, want: WantEvent): void {
    // Not the nonce: a flood would vary it. A node that asks again while an answer to the
    // same CIDs is on its way gets that answer: blocks reach every waiter of their CID.
    const key = JSON.stringify([roomId, sender, [...want.cids].sort()]);
    const log = this.#o.log;
    if (this.#answering.has(key)) {
      log.debug('want already being answered, dropped', { roomId, sender });
      return;
    }
    if (this.#answering.size >= (this.#o.maxAnswers ?? MAX_ANSWERS)) {
      log.warn('too many wants at once, one dropped', { roomId, sender });
      return;
    }
    const done = answerWant(this.#o, roomId, want)
      .catch((err: unknown) => log.warn('could not answer a want', { roomId, sender, err }))
      .finally(() => this.#answering.delete(key));
    this.#answering.set(key, done);
  }

  async #take(inline: { cid: string; data: string }[], car: string | undefined): Promise<void> {
    const blocks = inline.map(decodeInline);
    if (car) {
      const reader = await CarReader.fromBytes(
        await this.#o.client.download(car, this.#o.maxCarBytes),
      );
      for await (const b of reader.blocks())
        blocks.push({ cid: CID.asCID(b.cid) as CID, bytes: b.bytes });
    }
    for (const { cid, bytes } of blocks) {
      try {
        await this.#o.store.putBlock(cid, bytes);
      } catch (err) {
        this.#o.log.warn('rejected a block from the room', { cid: cid.toString(), err });
        continue;
      }
      for (const w of this.#waiters.get(cid.toString()) ?? []) w.resolve(bytes);
    }
  }

  #invalid(event: RoomEvent): true {
    this.#o.log.warn('invalid block-exchange event dropped', {
      type: event.type,
      sender: event.sender,
      id: event.event_id,
    });
    return true;
  }
}
