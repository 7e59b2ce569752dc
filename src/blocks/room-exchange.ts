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
  /** Whether a sender's answers count in a room (their blocks are verified against their CIDs). */
  admitted: (roomId: RoomId, user: UserId) => boolean;
  /** Whether a sender's wants are answered in a room: answering costs uploads and sends. */
  servesWants: (roomId: RoomId, user: UserId) => boolean;
  /** Answers prepared or sent at once; the other wants wait their turn. Default 4. */
  maxAnswers?: number;
  /** Largest CAR file downloaded for one answer, bytes. */
  maxCarBytes: number;
}

const MAX_ANSWERS = 4;
/** Wants that wait for an answer to start; beyond them a want is dropped (its fetch times out). */
const MAX_WAITING = 256;

interface WaitingWant {
  roomId: RoomId;
  sender: UserId;
  want: WantEvent;
}

interface Waiter {
  resolve: (bytes: Uint8Array) => void;
}

/**
 * Moves blocks through the room itself — the path that works between friends behind NAT.
 * As a fetcher it sends a want and waits for an answer; as a responder it answers others'
 * wants with the DAG below each wanted CID, as much of it as one answer carries (answer.ts;
 * inline when small, else a CAR in media): a fetcher asks again for each block it still lacks.
 * Blocks are only taken in answer to our own wants (matched by nonce), and every block is
 * verified by the store before it is kept. Wants are answered in the background, so a flood
 * of them never holds up the timeline: a few answers at once, one per sender and CIDs.
 */
export class RoomBlockExchange implements BlockFetcher {
  readonly name = 'matrix-room';
  readonly #o: RoomExchangeOptions;
  readonly #nonces = new Set<string>();
  readonly #waiters = new Map<string, Waiter[]>();
  /** The answers in flight, by room, sender and CIDs. */
  readonly #answering = new Map<string, Promise<void>>();
  /** The wants waiting for an answer to start, oldest first, by the same key. */
  readonly #waiting = new Map<string, WaitingWant>();
  /** Answers to our wants being taken into the store. */
  readonly #taking = new Set<Promise<void>>();

  constructor(opts: RoomExchangeOptions) {
    this.#o = opts;
  }

  async fetch(cid: CID, opts: { signal: AbortSignal }): Promise<Uint8Array> {
    const key = cid.toString();
    const nonce = randomBytes(8).toString('hex');
    this.#nonces.add(nonce);
    let onAbort = () => {};
    let waiter: Waiter | undefined;
    const got = new Promise<Uint8Array>((resolve, reject) => {
      waiter = { resolve };
      const list = this.#waiters.get(key) ?? [];
      list.push(waiter);
      this.#waiters.set(key, list);
      onAbort = () => reject(opts.signal.reason);
      opts.signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      for (const room of this.#o.rooms()) {
        await this.#o.client.send(room, EVENT.want, { cids: [key], nonce }, opts.signal);
      }
      return await got;
    } finally {
      // The signal may outlive the fetch (a node's own): its listener goes with the fetch.
      opts.signal.removeEventListener('abort', onAbort);
      this.#nonces.delete(nonce);
      this.#unwait(key, waiter);
    }
  }

  /**
   * Removes one fetch's waiter. Other fetches of the same CID (a merge and a pin, two tasks
   * on one input) may still wait with their own deadlines: the list goes only when empty.
   */
  #unwait(key: string, waiter: Waiter | undefined): void {
    const rest = (this.#waiters.get(key) ?? []).filter((w) => w !== waiter);
    if (rest.length > 0) this.#waiters.set(key, rest);
    else this.#waiters.delete(key);
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
      // In the background: a CAR is a download from the media repository, which a slow or
      // failing server can stretch to minutes, and the timeline must not wait for it.
      if (this.#nonces.has(blocks.data.nonce)) {
        const taking = this.#take(blocks.data.blocks, blocks.data.car).catch((err: unknown) =>
          this.#o.log.warn('could not take the blocks of an answer', { roomId, err }),
        );
        this.#taking.add(taking);
        void taking.finally(() => this.#taking.delete(taking));
      }
    }
    return true;
  }

  /** Resolves once every answer in flight or waiting is sent, and every answer received is
   * taken (or failed). */
  async idle(): Promise<void> {
    while (this.#answering.size > 0 || this.#taking.size > 0) {
      await Promise.all([...this.#answering.values(), ...this.#taking]);
    }
  }

  /**
   * Answers in the background, a few at once; the others wait their turn, in order, up to
   * MAX_WAITING. Per sender and CIDs (not the nonce: a flood would vary it), one answer is in
   * flight and one more waits, for the newest nonce: a node that gave up on its first want and
   * asks again is answered for its new one.
   */
  #answer(roomId: RoomId, sender: UserId, want: WantEvent): void {
    const key = JSON.stringify([roomId, sender, [...want.cids].sort()]);
    const waiting = this.#waiting.get(key);
    if (waiting) {
      waiting.want = want;
      return;
    }
    if (!this.#answering.has(key) && this.#answering.size < this.#maxAnswers) {
      this.#start(key, { roomId, sender, want });
      return;
    }
    if (this.#waiting.size >= MAX_WAITING) {
      this.#o.log.warn('too many wants waiting, one dropped', { roomId, sender });
      return;
    }
    this.#waiting.set(key, { roomId, sender, want });
  }

  #start(key: string, w: WaitingWant): void {
    const { roomId, sender, want } = w;
    const done = answerWant(this.#o, roomId, want)
      .catch((err: unknown) => this.#o.log.warn('could not answer a want', { roomId, sender, err }))
      .finally(() => {
        this.#answering.delete(key);
        this.#next();
      });
    this.#answering.set(key, done);
  }

  /** Starts the oldest waiting wants that may go now. */
  #next(): void {
    for (const [key, w] of this.#waiting) {
      if (this.#answering.size >= this.#maxAnswers) return;
      if (this.#answering.has(key)) continue;
      this.#waiting.delete(key);
      this.#start(key, w);
    }
  }

  get #maxAnswers(): number {
    return this.#o.maxAnswers ?? MAX_ANSWERS;
  }

  async #take(inline: { cid: string; data: string }[], car: string | undefined): Promise<void> {
    // A block whose CID does not parse is dropped alone, as protocol/events.ts says: the
    // answer's other blocks still count.
    const blocks = inline.flatMap((b) => {
      try {
        return [decodeInline(b)];
      } catch (err) {
        this.#o.log.warn('rejected a block from the room', { cid: b.cid, err });
        return [];
      }
    });
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
