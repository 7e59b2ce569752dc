import type { RoomId } from '../ids.ts';
import { Batcher } from '../matrix/batcher.ts';
import { type Assignment, EVENT } from '../protocol/events.ts';
import { MESH_EVENT } from '../protocol/manager.ts';
import type { NodeContext } from './context.ts';
import type { MeshRoom } from './mesh-room.ts';
import type { WorkerRole } from './worker-role.ts';

interface Item<T> {
  term: number;
  value: T;
  sent: (ok: boolean) => void;
}

/**
 * The coordinator's Manager events, batched per room (invariant 7): assignments, and
 * accepted tasks that wait for a worker. Only what is still valid goes out: items of a term
 * this node no longer coordinates are dropped (the next coordinator has them in its book).
 * An assignment to this node itself starts at once, without waiting for the room's echo.
 */
export class AssignOutbox {
  readonly #ctx: NodeContext;
  readonly #worker: WorkerRole;
  readonly #assign = new Map<RoomId, Batcher<Item<Assignment>>>();
  readonly #accept = new Map<RoomId, Batcher<Item<{ task: string; block: string }>>>();

  constructor(ctx: NodeContext, worker: WorkerRole) {
    this.#ctx = ctx;
    this.#worker = worker;
  }

  async idle(): Promise<void> {
    for (const b of [...this.#assign.values(), ...this.#accept.values()]) await b.idle();
  }

  /** Resolves true once the assignment is in the room, false if it was dropped as stale. */
  assign(room: MeshRoom, term: number, a: Assignment): Promise<boolean> {
    let b = this.#assign.get(room.id);
    if (!b) {
      b = this.#batcher(room, 'assignment', async (term, items) => {
        const content = {
          term,
          leaseMs: this.#ctx.config.mesh.assignmentLeaseMs,
          assignments: items.map((i) => i.value),
        };
        await this.#ctx.client.send(room.id, EVENT.assign, content, this.#ctx.signal);
        for (const i of items)
          if (i.value.worker === this.#ctx.self) this.#worker.take(room, i.value);
      });
      this.#assign.set(room.id, b);
    }
    return this.#push(b, term, a);
  }

  /** Records an accepted task that waits for a worker, so no coordinator change loses it. */
  accept(room: MeshRoom, term: number, task: string, block: string): Promise<boolean> {
    let b = this.#accept.get(room.id);
    if (!b) {
      b = this.#batcher(room, 'accept', async (term, items) => {
        const content = { term, tasks: items.map((i) => i.value) };
        await this.#ctx.client.send(room.id, MESH_EVENT.accept, content, this.#ctx.signal);
      });
      this.#accept.set(room.id, b);
    }
    return this.#push(b, term, { task, block });
  }

  #push<T>(b: Batcher<Item<T>>, term: number, value: T): Promise<boolean> {
    return new Promise((resolve) => {
      let ok = false;
      void b.push({ term, value, sent: (x) => (ok = x) }).then(
        () => resolve(ok),
        () => resolve(false),
      );
    });
  }

  #batcher<T>(
    room: MeshRoom,
    what: string,
    send: (term: number, items: Item<T>[]) => Promise<void>,
  ): Batcher<Item<T>> {
    return new Batcher<Item<T>>({
      send: async (items) => {
        const term = room.election.term;
        const live = room.election.acting() ? items.filter((i) => i.term === term) : [];
        const stale = items.filter((i) => !live.includes(i));
        if (stale.length > 0) {
          this.#ctx.log.info(`stale ${what}s dropped: this node no longer coordinates`, {
            count: stale.length,
          });
        }
        if (live.length > 0) await send(term, live);
        for (const i of live) i.sent(true);
        for (const i of stale) i.sent(false);
      },
      maxItems: 60,
      log: this.#ctx.log,
      what,
      signal: this.#ctx.signal,
    });
  }
}
