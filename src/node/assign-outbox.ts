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

/** A room's outbox, with the MeshRoom whose election its checks read. */
interface Box<T> {
  room: MeshRoom;
  box: LazyOutbox<Item<T>>;
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
  readonly #assign = new Map<RoomId, Box<Assignment>>();
  readonly #accept = new Map<RoomId, Box<Accepted>>();

  constructor(ctx: NodeContext) {
    this.#ctx = ctx;
  }

  async idle(): Promise<void> {
    for (const b of [...this.#assign.values(), ...this.#accept.values()]) await b.box.idle();
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
    const box = this.#boxOf(this.#assign, room, EVENT.assign, (items) => ({
      term: room.election.term,
      leaseMs: this.#ctx.config.mesh.assignmentLeaseMs,
      assignments: items.map((i) => i.value),
    }));
    return box.push({ term, value: a });
  }

  /** Records an accepted task that waits for a worker, so no coordinator change loses it. */
  accept(room: MeshRoom, term: number, task: string, block: string): Promise<boolean> {
    const box = this.#boxOf(this.#accept, room, MESH_EVENT.accept, (items) => ({
      term: room.election.term,
      tasks: items.map((i) => i.value),
    }));
    return box.push({ term, value: { task, block } });
  }

  /**
   * The room's outbox of `type`. A node that left a room and joined it again has a new
   * MeshRoom (a new election) for it: an outbox still reading the old one's would find every
   * item stale, and the room would never get an assignment from this node again.
   */
  #boxOf<T>(
    boxes: Map<RoomId, Box<T>>,
    room: MeshRoom,
    type: string,
    content: (items: Item<T>[]) => object,
  ): LazyOutbox<Item<T>> {
    const known = boxes.get(room.id);
    if (known?.room === room) return known.box;
    const box = this.#outbox<T>(room, type, content);
    boxes.set(room.id, { room, box });
    return box;
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
