import type { Completion } from '../protocol/events.ts';
import { RequestLog, trim } from './request-log.ts';
import {
  type BookSnapshot,
  type CheckOutcome,
  FINAL,
  reasons,
  type Settlement,
  type TaskInfo,
  type TaskRecord,
} from './task-record.ts';

const KEEP_FINISHED = 2_000;
const KEEP_WITHDRAWN = 5_000;

/** Why the task of a deleted request ended. */
export const deletedBy = (sender: string) => `its request was deleted by ${sender}`;

/**
 * The Manager's view of one room: tasks with their attempts, leases and outcomes, and the
 * commands no coordinator has handled yet (`requests`). Every node keeps one from the same
 * room events, in the same order, with the same rules, so whichever node coordinates next
 * knows what is pending. Pure: times are passed in; the caller persists snapshots.
 */
export class TaskBook {
  readonly #tasks = new Map<string, TaskRecord>();
  readonly #byRequest = new Map<string, string>();
  /** The room's commands: those waiting for a coordinator, and those handled. */
  readonly requests = new RequestLog();
  /**
   * Tasks withdrawn before this book knew them, with why: a node may hear a coordinator's
   * cancel before it derives the task or sees the assignment that carries it, and the task
   * must then arrive cancelled, not be run or assigned again.
   */
  readonly #withdrawn = new Map<string, string>();
  #seq = 0;
  #onSettled: ((id: string, why: Settlement) => void) | undefined;

  /**
   * `listener` hears of each task this book takes as cancelled, whichever event brought the
   * cancel, and of each task a report settled (final, or split by its plan): a node stops
   * running it then. One listener: a new one replaces the last.
   */
  onSettled(listener: (id: string, why: Settlement) => void): void {
    this.#onSettled = listener;
  }

  get(id: string): TaskRecord | undefined {
    return this.#tasks.get(id);
  }

  byRequest(request: string): TaskRecord | undefined {
    const id = this.#byRequest.get(request);
    return id === undefined ? undefined : this.#tasks.get(id);
  }

  all(): TaskRecord[] {
    return [...this.#tasks.values()];
  }

  /** A task was accepted (its block is known). Idempotent. */
  accept(id: string, block: string, info: TaskInfo, now: number): TaskRecord {
    this.requests.handled(info.request);
    const known = this.#tasks.get(id);
    if (known) {
      known.block ??= FINAL.has(known.state) && known.answered ? undefined : block;
      return known;
    }
    const rec: TaskRecord = {
      id,
      block,
      ...info,
      state: 'queued',
      attempt: 0,
      failures: [],
      answered: false,
      acceptedAt: now,
      seq: ++this.#seq,
    };
    if (info.thread === undefined) delete rec.thread;
    if (info.parent === undefined) delete rec.parent;
    if (info.pipeline === undefined) delete rec.pipeline;
    const why = this.#withdrawn.get(id);
    if (why !== undefined) {
      this.#withdrawn.delete(id);
      this.#cancelled(rec, why, now);
    } else if (!info.parent && this.requests.isDeleted(info.request, info.submitter)) {
      this.#cancelled(rec, deletedBy(info.submitter), now);
    } else if (info.parent) {
      // A part derived while its task ended (a split's plan or a pipeline stage read from the
      // store meanwhile): the cancel named only the parts known then, so it ends here.
      const parent = this.#tasks.get(info.parent);
      if (parent?.state === 'cancelled' || parent?.state === 'failed') {
        this.#cancelled(rec, parent.error?.message ?? `its task ${parent.state}`, now);
      }
    }
    this.#tasks.set(id, rec);
    // Parts share their parent's request; the request names the parent.
    if (!info.parent) this.#byRequest.set(info.request, id);
    return rec;
  }

  /** An assignment (a newer attempt supersedes an older one; a final task stays final). */
  assign(
    id: string,
    a: { worker: string; attempt: number; term: number },
    leaseMs: number,
    now: number,
  ): void {
    const rec = this.#tasks.get(id);
    if (!rec || FINAL.has(rec.state) || rec.state === 'split' || a.attempt < rec.attempt) return;
    if (a.attempt === rec.attempt && rec.state === 'assigned' && (rec.term ?? 0) > a.term) return;
    Object.assign(rec, { state: 'assigned', ...a, leaseUntil: now + leaseMs, assignedAt: now });
    if (!rec.assignedTo?.includes(a.worker)) rec.assignedTo = [...(rec.assignedTo ?? []), a.worker];
  }

  /** Whether `worker` was ever given this task (and so may report on it). */
  wasAssigned(id: string, worker: string): boolean {
    return this.#tasks.get(id)?.assignedTo?.includes(worker) ?? false;
  }

  /** A worker keeps its assignment alive. */
  renew(worker: string, id: string, attempt: number, leaseMs: number, now: number): void {
    const rec = this.#tasks.get(id);
    if (rec?.state !== 'assigned' || rec.worker !== worker || rec.attempt !== attempt) return;
    rec.leaseUntil = now + leaseMs;
  }

  /**
   * A worker's report (only from a node the task was assigned to). A result is final whatever
   * the attempt; a failure is final when it
   * cannot be retried or the attempts are used up, else the task waits for another worker.
   */
  complete(worker: string, c: Completion, maxAttempts: number, now: number): void {
    const rec = this.#tasks.get(c.task);
    if (!rec || FINAL.has(rec.state) || !this.wasAssigned(c.task, worker)) return;
    // A split's plan is its outcome; its parts decide the rest.
    if (rec.state === 'split') return;
    if (c.ok && c.result && c.split) {
      // Only a top-level task may split (a part's plan would nest without end).
      if (rec.parent) return;
      Object.assign(rec, { state: 'split', result: c.result, worker });
      if (c.bytes !== undefined) rec.resultBytes = c.bytes;
      this.#onSettled?.(rec.id, 'settled');
      return;
    }
    if (c.ok && c.result) {
      Object.assign(rec, { state: 'done', result: c.result, worker, finishedAt: now });
      if (c.bytes !== undefined) rec.resultBytes = c.bytes;
      this.#onSettled?.(rec.id, 'settled');
      return;
    }
    const error = c.error ?? { code: 'ERROR', message: 'unknown error' };
    this.#fail(rec, { attempt: c.attempt, worker, code: error.code, message: error.message });
    const current = c.attempt === rec.attempt;
    if (error.retryable !== true || rec.attempt >= maxAttempts) {
      if (current || error.retryable !== true) this.#finish(rec, error, now);
    } else if (current) {
      rec.state = 'queued';
    }
  }

  /**
   * Assignments whose lease ran out (their worker vanished): the task waits for another
   * worker, or fails for good after `maxAttempts`. Only the acting coordinator calls this;
   * the others follow from its next assignment or its answer. An assignment `unsent` says is
   * still on its way to the room has no lease running yet: its worker has not heard of it.
   */
  expire(now: number, maxAttempts: number, unsent?: (task: string) => boolean): TaskRecord[] {
    const changed: TaskRecord[] = [];
    for (const rec of this.#tasks.values()) {
      if (rec.state !== 'assigned' || (rec.leaseUntil ?? 0) > now) continue;
      if (unsent?.(rec.id)) continue;
      const message = `${rec.worker} stopped answering while running it (attempt ${rec.attempt})`;
      this.#fail(rec, { attempt: rec.attempt, worker: rec.worker, code: 'LOST', message });
      if (rec.attempt >= maxAttempts) {
        this.#finish(rec, { code: 'GAVE_UP', message: reasons(rec) }, now);
      } else rec.state = 'queued';
      changed.push(rec);
    }
    return changed;
  }

  /** Every assignment of `worker` is lost now (it left the room). */
  dropWorker(worker: string, now: number): void {
    for (const rec of this.#tasks.values()) {
      if (rec.state === 'assigned' && rec.worker === worker) rec.leaseUntil = now - 1;
    }
  }

  /** A new coordinator gives every running assignment a full lease from now. */
  refreshLeases(leaseMs: number, now: number): void {
    for (const rec of this.#tasks.values()) {
      if (rec.state === 'assigned') rec.leaseUntil = Math.max(rec.leaseUntil ?? 0, now + leaseMs);
    }
  }

  /** The coordinator gives up on a task (no node can run it): final, with the reason. */
  giveUp(id: string, error: { code: string; message: string }, now: number): void {
    const rec = this.#tasks.get(id);
    if (rec && !FINAL.has(rec.state)) this.#finish(rec, error, now);
  }

  /**
   * Withdrawn before it finished (with its parts): final, and answered as cancelled. A task
   * this book does not know yet is remembered, and arrives cancelled. True when a task known
   * here was cancelled.
   */
  cancel(id: string, why: string, now: number): boolean {
    const rec = this.#tasks.get(id);
    if (!rec) {
      this.#withdrawn.set(id, why);
      trim(this.#withdrawn, KEEP_WITHDRAWN);
      return false;
    }
    if (FINAL.has(rec.state)) return false;
    for (const part of rec.parts ?? []) this.cancel(part, why, now);
    this.#cancelled(rec, why, now);
    return true;
  }

  /** A split task's parts, from its plan (each accepted separately). */
  setParts(id: string, parts: string[]): void {
    const rec = this.#tasks.get(id);
    if (rec?.state === 'split' && !rec.parts) rec.parts = parts;
  }

  /** The Verifier leaves a result as it is: it is answered like any other. */
  markChecked(id: string): void {
    const rec = this.#tasks.get(id);
    if (rec) rec.checked = true;
  }

  /** The Verifier compares a finished task's result with replicas' before it is answered. */
  verify(id: string, replicas: string[]): void {
    const rec = this.#tasks.get(id);
    if (rec?.state !== 'done' || rec.answered || rec.parent) return;
    Object.assign(rec, { state: 'split', checked: true, verifying: true, parts: [] });
    this.addParts(id, replicas);
  }

  /**
   * The Verifier's verdict on a checked task, on every node: done with the result a quorum
   * agreed on (and a node that gave it), or failed. The coordinator held the task while its
   * replicas ran; other nodes saw it done with its first worker's result.
   */
  checked(id: string, outcome: CheckOutcome, now: number): void {
    const rec = this.#tasks.get(id);
    if (!rec || rec.parent) return;
    const held = rec.state === 'split' && rec.verifying;
    if (!held && rec.state !== 'done') return;
    rec.checked = true;
    if ('error' in outcome) {
      this.#finish(rec, outcome.error, now);
      return;
    }
    const { result, worker, verified } = outcome;
    const finishedAt = held ? now : (rec.finishedAt ?? now);
    if (result !== rec.result) delete rec.resultBytes;
    Object.assign(rec, { state: 'done', result, worker, verified, finishedAt });
  }

  /** Tasks whose results are being compared with their replicas'. */
  verifyingTasks(): TaskRecord[] {
    return this.all().filter((r) => r.state === 'split' && r.verifying);
  }

  /** A pipeline's tasks derived so far, or a checked task's replicas (more may follow). */
  addParts(id: string, parts: string[]): void {
    const rec = this.#tasks.get(id);
    if (rec?.state !== 'split' || !(rec.pipeline || rec.verifying)) return;
    const known = new Set(rec.parts ?? []);
    rec.parts = [...(rec.parts ?? []), ...parts.filter((p) => !known.has(p))];
  }

  /** A split task's outcome once its parts are final: the joined result, or why not. */
  finishSplit(
    id: string,
    outcome: { result: string } | { error: { code: string; message: string } },
    now: number,
  ): void {
    const rec = this.#tasks.get(id);
    if (rec?.state !== 'split') return;
    if ('result' in outcome) {
      Object.assign(rec, { state: 'done', result: outcome.result, finishedAt: now });
    } else this.#finish(rec, outcome.error, now);
  }

  /** A final answer seen in the room (from any node). */
  answered(
    id: string,
    state: 'done' | 'failed' | 'cancelled' | undefined,
    now: number,
    outcome: { error?: { code: string; message: string }; result?: string; worker?: string } = {},
  ): void {
    const rec = this.#tasks.get(id);
    if (!rec) return;
    if (!FINAL.has(rec.state)) {
      rec.state = state ?? 'done';
      rec.finishedAt = now;
      if (outcome.error) rec.error = outcome.error;
      if (outcome.result) rec.result = outcome.result;
      if (outcome.worker) rec.worker = outcome.worker;
      this.#onSettled?.(id, rec.state === 'cancelled' ? 'cancelled' : 'settled');
    }
    rec.answered = true;
    rec.block = undefined;
    this.#prune();
  }

  /** Tasks waiting for a worker, in acceptance order. */
  queued(): TaskRecord[] {
    return this.all()
      .filter((r) => r.state === 'queued')
      .sort((a, b) => a.seq - b.seq);
  }

  /** Final tasks nobody has answered yet (parts are answered with their parent). */
  unanswered(): TaskRecord[] {
    return this.all().filter((r) => FINAL.has(r.state) && !r.answered && !r.parent);
  }

  snapshot(): BookSnapshot {
    return {
      seq: this.#seq,
      tasks: this.all(),
      requests: this.requests.kept(),
      handled: this.requests.handledIds(),
      withdrawn: [...this.#withdrawn],
      deletedRequests: this.requests.deletions(),
    };
  }

  restore(s: BookSnapshot): void {
    this.#seq = Math.max(this.#seq, s.seq);
    for (const t of s.tasks) {
      this.#tasks.set(t.id, t);
      if (!t.parent) this.#byRequest.set(t.request, t.id);
    }
    for (const [id, why] of s.withdrawn ?? []) {
      if (!this.#tasks.has(id)) this.#withdrawn.set(id, why);
    }
    this.requests.restore(s.requests, s.handled, s.deletedRequests);
  }

  #fail(rec: TaskRecord, f: TaskRecord['failures'][number]): void {
    if (!rec.failures.some((x) => x.attempt === f.attempt && x.worker === f.worker)) {
      rec.failures.push(f);
    }
  }

  #cancelled(rec: TaskRecord, why: string, now: number): void {
    Object.assign(rec, {
      state: 'cancelled',
      error: { code: 'CANCELLED', message: why },
      finishedAt: now,
    });
    this.#onSettled?.(rec.id, 'cancelled');
  }

  #finish(rec: TaskRecord, error: { code: string; message: string }, now: number): void {
    Object.assign(rec, { state: 'failed', error, finishedAt: now });
    this.#onSettled?.(rec.id, 'settled');
  }

  /**
   * Keeps the newest answered tasks (to ignore late duplicates); drops the oldest beyond.
   * Parts, pipeline tasks and replicas are answered with their task once they are final, by
   * their parent link: a node that is not coordinating may not know its `parts`.
   */
  #prune(): void {
    for (const r of this.#tasks.values()) {
      if (r.answered || !r.parent || !FINAL.has(r.state)) continue;
      if (this.#tasks.get(r.parent)?.answered)
        Object.assign(r, { answered: true, block: undefined });
    }
    const done = this.all().filter((r) => r.answered);
    if (done.length <= KEEP_FINISHED) return;
    done.sort((a, b) => a.seq - b.seq);
    for (const r of done.slice(0, done.length - KEEP_FINISHED)) {
      this.#tasks.delete(r.id);
      if (!r.parent) this.#byRequest.delete(r.request);
    }
  }
}
