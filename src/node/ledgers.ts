import type { CID } from 'multiformats/cid';
import { CID as CIDClass } from 'multiformats/cid';
import { decodeInline, encodeInline, inlineSize } from '../blocks/codec.ts';
import type { RoomId, UserId } from '../ids.ts';
import { createGoho, openGoho } from '../lattice/index.ts';
import type { Goho } from '../lattice/types.ts';
import type { Logger } from '../log/logger.ts';
import type { MeshClient, RoomEvent } from '../matrix/types.ts';
import { EVENT, headSchema, type InlineBlock } from '../protocol/events.ts';
import { createQueue, type Queue } from '../queue/index.ts';
import type { Store } from '../store/types.ts';
import type { HeadsFile } from './heads-file.ts';
import { Serial } from './serial.ts';

const INLINE_BUDGET = 30_000;

export interface LedgerDeps {
  store: Store;
  client: MeshClient;
  heads: HeadsFile;
  log: Logger;
  self: UserId;
}

/**
 * A room's replicated state: its Queue GOHO (available/assigned/completed) and its Results
 * GOHO. Every local change is persisted and announced (HPCP); announced heads are merged.
 * Both GOHOs have origins derived from the room id, so every node agrees on them unasked.
 */
export class RoomLedger {
  readonly #d: LedgerDeps;
  readonly #room: RoomId;
  readonly queueGoho: Goho;
  readonly resultsGoho: Goho;
  readonly queue: Queue;
  /** One change at a time: a GOHO's head is read, changed and written back. */
  readonly #lock: Serial;
  /** Announced heads are merged off the sync loop, since their blocks may need fetching. */
  readonly #merges: Serial;

  constructor(d: LedgerDeps, room: RoomId, queueGoho: Goho, resultsGoho: Goho) {
    this.#d = d;
    this.#lock = new Serial(d.log, 'ledger change');
    this.#merges = new Serial(d.log, 'head merge');
    this.#room = room;
    this.queueGoho = queueGoho;
    this.resultsGoho = resultsGoho;
    this.queue = createQueue(queueGoho, { author: d.self });
  }

  async enqueue(task: CID): Promise<void> {
    await this.#changed(this.queueGoho, () => this.queue.enqueue(task));
  }

  async assign(task: CID, a: { worker: UserId; term: number; attempt: number }): Promise<void> {
    await this.#changed(this.queueGoho, () => this.queue.assign(task, a));
  }

  async complete(task: CID, c: Parameters<Queue['complete']>[1]): Promise<void> {
    await this.#changed(this.queueGoho, () => this.queue.complete(task, c));
    if (c.ok) {
      const leaf = {
        path: `results/${task}`,
        action: 'set' as const,
        value: c.result,
        author: this.#d.self,
      };
      await this.#changed(this.resultsGoho, () => this.resultsGoho.append(leaf));
    }
  }

  status(task: CID): ReturnType<Queue['status']> {
    return this.queue.status(task);
  }

  /**
   * Takes an announced head of one of this room's GOHOs: its blocks are fetched first, then
   * it is merged under the lock. Stays quiet: a merge is not re-announced.
   */
  async onHead(event: RoomEvent): Promise<void> {
    const parsed = headSchema.safeParse(event.content);
    if (!parsed.success) {
      this.#d.log.warn('invalid head announcement dropped', {
        sender: event.sender,
        id: event.event_id,
      });
      return;
    }
    const goho = [this.queueGoho, this.resultsGoho].find(
      (g) => g.origin().toString() === parsed.data.origin,
    );
    if (!goho) return;
    for (const b of parsed.data.blocks) {
      const { cid, bytes } = decodeInline(b);
      await this.#d.store
        .putBlock(cid, bytes)
        .catch((err: unknown) => this.#d.log.warn('bad head block', { err }));
    }
    const head = CIDClass.parse(parsed.data.head);
    this.#merges.push(async () => {
      await this.#lock.exclusive(async () => {
        const before = goho.head().toString();
        const after = await goho.merge(head);
        if (after.toString() !== before)
          await this.#d.heads.set(goho.origin().toString(), after.toString());
      });
    });
  }

  /** Resolves when announced heads taken so far are merged. */
  settled(): Promise<void> {
    return this.#merges.idle();
  }

  #changed(goho: Goho, change: () => Promise<unknown>): Promise<void> {
    return this.#lock.exclusive(async () => {
      const before = goho.head();
      await change();
      const after = goho.head();
      if (after.equals(before)) return;
      await this.#d.heads.set(goho.origin().toString(), after.toString());
      const blocks = await this.#newBlocks(goho, before);
      const content = { origin: goho.origin().toString(), head: after.toString(), blocks };
      await this.#d.client.send(this.#room, EVENT.head, content);
    });
  }

  /** The new root and the leaves it adds, inline while they fit; peers fetch the rest. */
  async #newBlocks(goho: Goho, before: CID): Promise<InlineBlock[]> {
    const { store } = this.#d;
    const out: InlineBlock[] = [];
    let size = 0;
    for (const cid of (await goho.since(before)).blocks) {
      const bytes = await store.getBlock(cid, { offline: true });
      size += inlineSize(bytes);
      if (size > INLINE_BUDGET) break;
      out.push(encodeInline(cid, bytes));
    }
    return out;
  }
}

/** The ledgers of every mesh room of this node. */
export class Ledgers {
  readonly #d: LedgerDeps;
  readonly #rooms = new Map<RoomId, RoomLedger>();

  constructor(d: LedgerDeps) {
    this.#d = d;
  }

  get(room: RoomId): RoomLedger {
    const l = this.#rooms.get(room);
    if (!l) throw new Error(`no ledger open for room ${room}`);
    return l;
  }

  async open(room: RoomId): Promise<RoomLedger> {
    const existing = this.#rooms.get(room);
    if (existing) return existing;
    const queue = await this.#openGoho(`meshbot/queue/${room}`);
    const results = await this.#openGoho(`meshbot/results/${room}`);
    const ledger = new RoomLedger(this.#d, room, queue, results);
    this.#rooms.set(room, ledger);
    return ledger;
  }

  async #openGoho(name: string): Promise<Goho> {
    const fresh = await createGoho(this.#d.store, { name });
    const head = this.#d.heads.get(fresh.origin().toString());
    return head ? openGoho(this.#d.store, fresh.origin(), CIDClass.parse(head)) : fresh;
  }
}
