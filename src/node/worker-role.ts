import { CID } from 'multiformats/cid';
import { ranElsewhere } from '../coordinator/book-views.ts';
import { renewEvery } from '../coordinator/election.ts';
import { FINAL, type Settlement } from '../coordinator/task-record.ts';
import type { RoomId } from '../ids.ts';
import { Batcher } from '../matrix/batcher.ts';
import { type AssignEvent, type Assignment, type Completion, EVENT } from '../protocol/events.ts';
import { MESH_EVENT } from '../protocol/manager.ts';
import { getTask, type Task } from '../queue/task.ts';
import { requestOf, sendFiles, sendReply } from './answers.ts';
import type { NodeContext } from './context.ts';
import { executeAssignment, type Report as RunReport } from './execute-assignment.ts';
import { formatResult } from './format-result.ts';
import type { MeshRoom } from './mesh-room.ts';
import { type OwnReport, takeOwnAnswer } from './own-reports.ts';
import { Serial } from './serial.ts';

interface Held {
  room: MeshRoom;
  task: string;
  attempt: number;
  /**
   * Until when this node is sure the coordinator has not given the task to another node:
   * its lease is counted from when this node *sent* its latest renewal, never later than the
   * coordinator saw it; before the first renewal, half a lease from receipt.
   */
  validUntil: number;
  /** Set when the node left the room: nothing more is sent there for this assignment. */
  dropped?: boolean;
  /** Stops the run: the task was withdrawn or settled elsewhere (the reason, a `Settlement`),
   * or the node left the room. */
  readonly stop: AbortController;
  /** Its job has begun (until then it waits behind another run, with nothing to stop). */
  begun?: boolean;
}

interface Report extends RunReport {
  /** The assignment it reports on, once handed to the batcher. */
  held?: Held;
}

/**
 * The worker side of the Manager protocol: takes assignments addressed to this node (the
 * term was checked by the caller), keeps them alive with batched renewals while they wait or
 * run, runs them one after another off the sync loop, and reports completions, batched.
 */
export class WorkerRole {
  readonly #ctx: NodeContext;
  readonly #held = new Map<string, Held>();
  readonly #jobs: Serial;
  readonly #ledger: Serial;
  readonly #reports = new Map<RoomId, Batcher<Report>>();
  readonly #onReported: (room: MeshRoom, reports: OwnReport[]) => void;
  #timer: NodeJS.Timeout | undefined;
  readonly #renewing = new Set<RoomId>();
  readonly #delivering = new Set<Promise<void>>();

  constructor(ctx: NodeContext, onReported: (room: MeshRoom, reports: OwnReport[]) => void) {
    this.#ctx = ctx;
    this.#onReported = onReported;
    this.#jobs = new Serial(ctx.log, 'task');
    this.#ledger = new Serial(ctx.log, 'ledger write');
  }

  /** Assignments this node holds (waiting or running). */
  get load(): number {
    return this.#held.size;
  }

  start(): void {
    // Like the coordinator's lease: under a rate limit every event counts (see renewEvery).
    const every = Math.max(300, Math.floor(renewEvery(this.#ctx.config.mesh.assignmentLeaseMs)));
    this.#timer ??= setInterval(() => {
      // The node stopped (its signal aborted): nothing of it renews any more.
      if (this.#ctx.signal.aborted) return this.stop();
      void this.#renewAll();
    }, every);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Resolves when every task taken so far has finished and been reported. */
  async idle(): Promise<void> {
    await this.#jobs.idle();
    // Answers and reports on their way (a direct answer goes through no batcher).
    await Promise.all(this.#delivering);
    for (const b of this.#reports.values()) await b.idle();
  }

  /**
   * The node left the room or was kicked: the room refuses all it sends there, so the
   * assignments it holds there are dropped (no more renewals; a run in progress is stopped
   * and ends unreported; the coordinator saw the node leave and re-queues them), and so are
   * the reports waiting to go there. Returns how many of each, for the caller's log line.
   */
  leave(roomId: RoomId): { assignments: number; reports: number } {
    let assignments = 0;
    for (const [key, held] of this.#held) {
      if (held.room.id !== roomId) continue;
      held.dropped = true;
      held.stop.abort();
      this.#held.delete(key);
      assignments++;
    }
    const reports = this.#reports.get(roomId)?.close() ?? 0;
    this.#reports.delete(roomId);
    return { assignments, reports };
  }

  /**
   * The room's book took `task` as cancelled (`!cancel`, its pipeline's, its request deleted),
   * or a report settled it (another node finished it first, or its failure was final): its
   * run here stops, unreported. A cancel is answered as such, a settled task by its report.
   */
  onSettled(room: MeshRoom, task: string, why: Settlement): void {
    for (const [key, held] of this.#held) {
      if (held.room !== room || held.task !== task) continue;
      // A run that has ended (its report on its way) takes no notice.
      held.stop.abort(why);
      // Still waiting behind another run: let go now, not renewed nor counted until its turn.
      if (!held.begun) this.#held.delete(key);
    }
  }

  /** An assign event that passed the sender and term checks. */
  onAssign(room: MeshRoom, data: AssignEvent): void {
    for (const a of data.assignments) if (a.worker === this.#ctx.self) this.take(room, a);
  }

  /** Takes one assignment for this node, from an assign event that passed the checks. */
  take(room: MeshRoom, a: Assignment): void {
    const key = `${room.id}/${a.task}/${a.attempt}`;
    if (this.#held.has(key)) return;
    const rec = room.book.get(a.task);
    if (rec && (FINAL.has(rec.state) || rec.attempt > a.attempt)) return;
    const validUntil = Date.now() + this.#ctx.config.mesh.assignmentLeaseMs / 2;
    const stop = new AbortController();
    const held: Held = { room, task: a.task, attempt: a.attempt, validUntil, stop };
    this.#held.set(key, held);
    // Only this very assignment: after leaving the room and joining it again, the same key
    // may be held anew.
    const release = () => {
      if (this.#held.get(key) === held) this.#held.delete(key);
    };
    this.#jobs.push(async () => {
      if (held.dropped) return;
      if (held.stop.signal.aborted) return release();
      held.begun = true;
      const report = await this.#run(held, a).catch(() => null);
      if (!report || held.dropped) {
        release();
        return;
      }
      // Handed over: the next task may start while the report is on its way; until it is
      // sent, the assignment is still renewed.
      const delivering = this.#deliver(held, report).finally(() => {
        release();
        this.#delivering.delete(delivering);
      });
      this.#delivering.add(delivering);
    });
  }

  async #run(held: Held, a: Assignment): Promise<Report | null> {
    const rec = held.room.book.get(a.task);
    if (rec && (FINAL.has(rec.state) || rec.attempt > a.attempt)) return null; // withdrawn
    let task: Task;
    try {
      // The store verifies the block against the task's CID before keeping it.
      await this.#ctx.store.putBlock(CID.parse(a.task), Buffer.from(a.block, 'base64'));
      task = await getTask(this.#ctx.store, CID.parse(a.task));
    } catch (err) {
      this.#ctx.log.warn('assignment with a bad task block dropped', { task: a.task, err });
      return null;
    }
    return executeAssignment(this.#ctx, {
      roomId: held.room.id,
      assignment: a,
      task,
      stop: held.stop.signal,
      left: () => held.dropped === true,
      record: (write) => this.#ledger.push(write),
    });
  }

  /**
   * A final outcome that this node may still call its own is answered by this node, in one
   * event (the reply carries the outcome): one hop less than going through the coordinator,
   * and the answers of a busy mesh spread over its nodes' rate limits. Anything else goes to
   * the coordinator as a completion, and the coordinator answers or retries.
   */
  async #deliver(held: Held, report: Report): Promise<void> {
    const { room } = held;
    const c = report.completion;
    if (report.answerable && this.#final(c) && this.#mayAnswer(held)) {
      try {
        await this.#answer(held, c);
        return;
      } catch (err) {
        this.#ctx.log.warn('could not answer; reporting to the coordinator instead', { err });
      }
    }
    // Left the room while answering: a new batcher there would retry for ever.
    if (held.dropped) return;
    await this.#batcher(room).push({ ...report, held });
  }

  #final(c: Completion): boolean {
    if (c.ok) return true;
    return c.error?.retryable !== true || c.attempt >= this.#ctx.config.mesh.maxAttempts;
  }

  /**
   * The task is still this node's to finish: not final, not re-assigned, assigned in the
   * newest term, and its lease not run out by this node's own conservative clock. A task that
   * another node ran too is answered by the coordinator, which takes the first result in the
   * room's order, as every node's book does.
   */
  #mayAnswer(held: Held): boolean {
    const rec = held.room.book.get(held.task);
    return (
      !!rec &&
      !FINAL.has(rec.state) &&
      rec.attempt === held.attempt &&
      rec.worker === this.#ctx.self &&
      // Assigned in the newest term: after a change of coordinator the new one answers.
      rec.term === held.room.election.clock.highestTerm &&
      Date.now() < held.validUntil &&
      !ranElsewhere(held.room.book, held.task, this.#ctx.self)
    );
  }

  async #answer(held: Held, c: Completion): Promise<void> {
    const ctx = this.#ctx;
    const { room } = held;
    const task = await getTask(ctx.store, CID.parse(c.task));
    const earlier = room.book.get(c.task)?.failures ?? [];
    let { text, files } = await formatResult(ctx, task, c);
    if (!c.ok && earlier.length > 0)
      text += `\nearlier attempts: ${earlier.map((f) => f.message).join('; ')}`;
    if (!this.#mayAnswer(held)) throw new Error('the assignment was withdrawn meanwhile');
    const state = c.ok ? 'done' : 'failed';
    const error = c.error ? { code: c.error.code, message: c.error.message } : undefined;
    const tag = { task: c.task, state, attempt: c.attempt, result: c.result, error } as const;
    // The deadline as it stood when the reply went out (see the batcher's).
    const validUntil = held.validUntil;
    await sendReply(ctx, room, requestOf(task), text, tag);
    const now = Date.now();
    const answer = { ...tag, inTime: now < validUntil };
    takeOwnAnswer(room.book, ctx.self, answer, ctx.config.mesh, now);
    void sendFiles(ctx, room, requestOf(task), files);
    if (error) {
      // A final failure goes into the Queue's completed set too (a result already did).
      const outcome = { worker: ctx.self, ok: false as const, error };
      this.#ledger.push(() => ctx.ledgers.get(room.id).complete(CID.parse(c.task), outcome));
    }
    room.changed();
    this.#onReported(room, []);
  }

  #batcher(room: MeshRoom): Batcher<Report> {
    let batcher = this.#reports.get(room.id);
    if (!batcher) {
      batcher = new Batcher<Report>({
        send: async (items) => {
          const content = {
            completions: items.map((i) => i.completion),
            blocks: items.flatMap((i) => i.blocks).slice(0, 200),
          };
          // Each deadline as it stood when the event went out: a renewal that lands while it
          // is on its way says nothing about when the room got it.
          const validUntil = items.map((i) => i.held?.validUntil ?? 0);
          await this.#ctx.client.send(room.id, EVENT.complete, content, this.#ctx.signal);
          const sent = Date.now();
          const reports = items.map((i, k) => ({
            completion: i.completion,
            inTime: sent < (validUntil[k] as number),
          }));
          this.#onReported(room, reports);
        },
        maxItems: 50,
        log: this.#ctx.log,
        what: 'completion',
        signal: this.#ctx.signal,
      });
      this.#reports.set(room.id, batcher);
    }
    return batcher;
  }

  /** One renew event per room for every assignment held, so none expires while it waits. */
  async #renewAll(): Promise<void> {
    const byRoom = new Map<RoomId, Held[]>();
    const now = Date.now();
    const leaseMs = this.#ctx.config.mesh.assignmentLeaseMs;
    for (const h of this.#held.values()) {
      // The coordinator keeps its own assignments alive in its own book: no event needed
      // (a coordinator taking over gives every assignment a full lease anyway).
      if (h.room.election.acting()) {
        h.room.book.renew(this.#ctx.self, h.task, h.attempt, leaseMs, now);
        h.validUntil = Math.max(h.validUntil, now + leaseMs / 2);
        continue;
      }
      const list = byRoom.get(h.room.id) ?? [];
      list.push(h);
      byRoom.set(h.room.id, list);
    }
    for (const [roomId, held] of byRoom) {
      // One renewal per room on its way at a time: under a rate limit they would pile up.
      if (this.#renewing.has(roomId)) continue;
      this.#renewing.add(roomId);
      const leases = held.slice(0, 500).map((h) => ({ task: h.task, attempt: h.attempt }));
      const sentAt = Date.now();
      try {
        await this.#ctx.client.send(roomId, MESH_EVENT.renew, { leases }, this.#ctx.signal);
        const until = sentAt + this.#ctx.config.mesh.assignmentLeaseMs;
        for (const h of held.slice(0, 500)) h.validUntil = Math.max(h.validUntil, until);
      } catch (err) {
        this.#ctx.log.warn('could not renew assignments', { err });
      } finally {
        this.#renewing.delete(roomId);
      }
    }
  }
}
