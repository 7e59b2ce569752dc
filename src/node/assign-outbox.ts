import type { RoomId } from '../ids.ts';
import { LazyOutbox } from '../matrix/lazy-outbox.ts';
import { type Assignment, EVENT } from '../protocol/events.ts';
import { MESH_EVENT } from '../protocol/manager.ts';
import type { NodeContext } from './context.ts';
import type { MeshRoom } from './mesh-room.ts';

interface Item<T> {
  term: number;
  value: T;
}

type Accepted = { task: string; block: string };

/**
 * The coordinator's Manager events, batched per room (invariant 7): assignments, and
 * accepted tasks that wait for a worker. Each event is built when its turn to be sent comes,
 * and only with what is still valid: items of a term this node no longer coordinates are
 * dropped (the next coordinator has them in its book). An assignment to this node itself is
 * not started here: like every node's, it starts from the room's echo (see `assign`).
 */
export class AssignOutbox {
  readonly #ctx: NodeContext;
  readonly #assign = new Map<RoomId, LazyOutbox<Item<Assignment>>>();
  readonly #accept = new Map<RoomId, LazyOutbox<Item<Accepted>>>();

  constructor(ctx: NodeContext) {
    this.#ctx = ctx;
  }

  async idle(): Promise<void> {
    for (const b of [...this.#assign.values(), ...this.#accept.values()]) await b.idle();
  }

  /**
   * Resolves true once the assignment is in the room, false if it was dropped as stale.
   *
   * An assignment to this node itself starts only from the room's echo, once it passed the
   * term and holder checks every node applies (mesh-node → applyBookEvent → onAssign), not
   * when its send succeeds. A send that succeeded says nothing of the room's order: another
   * claim of this term may have landed first (two nodes that both claimed it), and then every
   * node drops this assignment and the other claimant handles the request; started anyway,
   * the task would be answered twice. Nor would a task the room does not show as taken be
   * safe after a lost lease (a homeserver restart, a partition): the next coordinator takes it.
   */
  assign(room: MeshRoom, term: number, a: Assignment): Promise<boolean> {
    let box = this.#assign.get(room.id);
    if (!box) {
      box = this.#outbox<Assignment>(room, EVENT.assign, (items) => ({
        term: room.election.term,
        leaseMs: this.#ctx.config.mesh.assignmentLeaseMs,
        assignments: items.map((i) => i.value),
      }));
      this.#assign.set(room.id, box);
    }
    return box.push({ term, value: a });
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
