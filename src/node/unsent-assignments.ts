/**
 * The coordinator's assignments still on their way to the room. An assignment's lease runs
 * from when the room has it, not from when it joined the send queue: one held there (a rate
 * limit, a slow homeserver) past a lease is no sign that its worker stopped answering, since
 * no node has been told of it yet.
 */
import type { UserId } from '../ids.ts';
import type { MeshRoom } from './mesh-room.ts';

export class UnsentAssignments {
  readonly #tasks = new Set<string>();
  readonly #leaseMs: () => number;

  /** `leaseMs`: the assignment lease, read when a send settles (config may change). */
  constructor(leaseMs: () => number) {
    this.#leaseMs = leaseMs;
  }

  /** Whether the task's assignment is still being sent: its lease does not run yet. */
  has(task: string): boolean {
    return this.#tasks.has(task);
  }

  /**
   * Follows an assignment's send: once it settles (sent, or dropped as stale), the lease
   * starts over from then. A worker that left meanwhile keeps the lease it lost then.
   */
  track(
    room: MeshRoom,
    a: { task: string; worker: string; attempt: number },
    sending: Promise<boolean>,
  ): void {
    this.#tasks.add(a.task);
    const settled = () => {
      this.#tasks.delete(a.task);
      if (!room.liveNodes().includes(a.worker as UserId)) return;
      room.book.renew(a.worker, a.task, a.attempt, this.#leaseMs(), Date.now());
    };
    void sending.then(settled, settled);
  }
}
