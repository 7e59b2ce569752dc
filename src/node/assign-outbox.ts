import { setTimeout as sleep } from 'node:timers/promises';
import type { RoomId } from '../ids.ts';
import { LazyOutbox } from '../matrix/lazy-outbox.ts';
import { type Assignment, EVENT } from '../protocol/events.ts';
import { MESH_EVENT } from '../protocol/manager.ts';
import type { NodeContext } from './context.ts';
import type { MeshRoom } from './mesh-room.ts';
import type { WorkerRole } from './worker-role.ts';

interface Item<T> {
  term: number;
  value: T;
}

type Accepted = { task: string; block: string };

/**
 * The coordinator's Manager events, batched per room (invariant 7): assignments, and
 * accepted tasks that wait for a worker. Each event is built when its turn to be sent comes,
 * and only with what is still valid: items of a term this node no longer coordinates are
 * dropped (the next coordinator has them in its book).
 */
export class AssignOutbox {
  readonly #ctx: NodeContext;
  readonly #worker: WorkerRole;
  readonly #assign = new Map<RoomId, LazyOutbox<Item<Assignment>>>();
  readonly #accept = new Map<RoomId, LazyOutbox<Item<Accepted>>>();

  constructor(ctx: NodeContext, worker: WorkerRole) {
    this.#ctx = ctx;
    this.#worker = worker;
  }

  async idle(): Promise<void> {
    for (const b of [...this.#assign.values(), ...this.#accept.values()]) await b.idle();
  }

  /**
   * Resolves true once the assignment is in the room, false if it was dropped: stale, or, for
   * an assignment to this node itself, answered before it was due.
   *
   * This node starts its own assignments at once and records them only after
   * `mesh.ackDelayMs`, unless the answer went out first: the `!run` in the room is the
   * durable record until then (a coordinator that dies leaves it unhandled in every book,
   * and the next one takes it), and a quick task costs the room one event less.
   */
  assign(room: MeshRoom, term: number, a: Assignment): Promise<boolean> {
    const box = this.#assignBox(room);
    if (a.worker !== this.#ctx.self) return box.push({ term, value: a });
    this.#worker.take(room, a);
    const { ackDelayMs } = this.#ctx.config.mesh;
    if (ackDelayMs === 0) return box.push({ term, value: a });
    return sleep(ackDelayMs, undefined, { signal: this.#ctx.signal }).then(
      () => (room.book.get(a.task)?.answered ? false : box.push({ term, value: a })),
      () => false,
    );
  }

  #assignBox(room: MeshRoom): LazyOutbox<Item<Assignment>> {
    let box = this.#assign.get(room.id);
    if (!box) {
      box = this.#outbox<Assignment>(room, EVENT.assign, (items) => ({
        term: room.election.term,
        leaseMs: this.#ctx.config.mesh.assignmentLeaseMs,
        assignments: items.map((i) => i.value),
      }));
      this.#assign.set(room.id, box);
    }
    return box;
  }

  /** Records an accepted task that waits for a worker, so no coordinator change loses it. */
  accept(room: MeshRoom, term: number, task: string, block: string): Promise<boolean> {
    let box = this.#accept.get(room.id);
    if (!box) {
      box = this.#outbox<Accepted>(room, MESH_EVENT.accept, (items) => ({
        term: room.election.term,
        tasks: items.map((i) => i.value),
      }));
      this.#accept.set(room.id, box);
    }
    return box.push({ term, value: { task, block } });
  }

  #outbox<T>(
    room: MeshRoom,
    type: string,
    content: (items: Item<T>[]) => object,
  ): LazyOutbox<Item<T>> {
    return new LazyOutbox<Item<T>>({
      client: this.#ctx.client,
      room: room.id,
      type,
      content,
      valid: (i) => room.election.acting() && i.term === room.election.term,
      maxItems: 60,
      log: this.#ctx.log,
      signal: this.#ctx.signal,
    });
  }
}
