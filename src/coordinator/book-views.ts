/**
 * Read-only views of a room's book that a command or the scheduler asks for: they change
 * nothing, and read only what any caller of the book can.
 */
import type { TaskBook } from './task-book.ts';
import { FINAL, type TaskRecord } from './task-record.ts';

/** Pipelines started and not final: their conditions are evaluated as results come in. */
export function pipelines(book: TaskBook): TaskRecord[] {
  return book.all().filter((r) => r.state === 'split' && r.pipeline);
}

/** Split tasks whose plan nobody has read yet (its block may still be on its way). */
export function unexpanded(book: TaskBook): TaskRecord[] {
  return book.all().filter((r) => r.state === 'split' && !r.parts && !r.pipeline && !r.verifying);
}

/** Split tasks whose parts are all final: ready to be joined (or failed). */
export function joinable(book: TaskBook): TaskRecord[] {
  return book.all().filter(
    (r) =>
      r.state === 'split' &&
      !r.pipeline &&
      !r.verifying &&
      r.parts?.every((p) => {
        const part = book.get(p);
        return part !== undefined && FINAL.has(part.state);
      }),
  );
}

/**
 * The task a message of `sender` in the thread `root` is about: the newest one `sender` asked
 * for there (the thread's own, or one posted in it), else the thread's own (its replies
 * started the thread), else the newest one anybody asked for in it.
 */
export function taskInThread(book: TaskBook, root: string, sender: string): TaskRecord | undefined {
  const started = book.byRequest(root);
  let newest: TaskRecord | undefined;
  let own = started?.submitter === sender ? started : undefined;
  for (const r of book.all()) {
    if (r.thread !== root || r.parent) continue;
    if (!newest || r.seq > newest.seq) newest = r;
    if (r.submitter === sender && (!own || r.seq > own.seq)) own = r;
  }
  return own ?? started ?? newest;
}

/** Assignments held per worker, and tasks running per submitter. */
export function bookLoad(book: TaskBook): {
  perWorker: Map<string, number>;
  perSubmitter: Map<string, number>;
} {
  const perWorker = new Map<string, number>();
  const perSubmitter = new Map<string, number>();
  for (const r of book.all()) {
    if (r.state !== 'assigned' || !r.worker) continue;
    perWorker.set(r.worker, (perWorker.get(r.worker) ?? 0) + 1);
    perSubmitter.set(r.submitter, (perSubmitter.get(r.submitter) ?? 0) + 1);
  }
  return { perWorker, perSubmitter };
}

/**
 * Whether a node other than `self` was ever assigned the task. Its completion may then be on
 * its way through the room, and every node takes the first one in the room's order: `self`
 * must take its own completion in that order too, not ahead of the other's.
 */
export function ranElsewhere(book: TaskBook, id: string, self: string): boolean {
  return book.get(id)?.assignedTo?.some((worker) => worker !== self) ?? false;
}
