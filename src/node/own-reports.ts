/**
 * This node's own completions and answers, once the room has them. The room's order decides
 * which run of a task counts (TaskBook.complete takes the first), and every node applies the
 * room's events in that order. A node may apply its own outcome at once, ahead of the echo,
 * only when no other run can come before it in the room: its assignment was surely still its
 * own when the event went out (`inTime`), and no other node was ever assigned the task.
 * Otherwise it waits for the echo like everyone else, and keeps its lease alive in its own
 * book meanwhile: were this node the coordinator, it would expire the finished task while the
 * echo is on its way. A worker's own answer (a reply that carries the outcome) is an outcome
 * like a completion.
 */
import { ranElsewhere } from '../coordinator/book-views.ts';
import type { TaskBook } from '../coordinator/task-book.ts';
import type { Completion } from '../protocol/events.ts';

export interface OwnReport {
  completion: Completion;
  /** The completion reached the room before this node's assignment could have run out. */
  inTime: boolean;
}

/** A final outcome this node posted itself, as a reply to the request. */
export interface OwnAnswer {
  task: string;
  attempt: number;
  state: 'done' | 'failed';
  result?: string;
  error?: { code: string; message: string };
  /** The reply reached the room before this node's assignment could have run out. */
  inTime: boolean;
}

export interface OwnReportLimits {
  maxAttempts: number;
  assignmentLeaseMs: number;
}

export function takeOwnReports(
  book: TaskBook,
  self: string,
  reports: OwnReport[],
  limits: OwnReportLimits,
  now: number,
): void {
  for (const { completion: c, inTime } of reports) {
    if (inTime && !ranElsewhere(book, c.task, self)) {
      book.complete(self, c, limits.maxAttempts, now);
    } else {
      book.renew(self, c.task, c.attempt, limits.assignmentLeaseMs, now);
    }
  }
}

/** Like a completion: the task is answered at once only when no other run can come first. */
export function takeOwnAnswer(
  book: TaskBook,
  self: string,
  answer: OwnAnswer,
  limits: OwnReportLimits,
  now: number,
): void {
  const { task, attempt, state, result, error, inTime } = answer;
  if (inTime && !ranElsewhere(book, task, self)) {
    book.answered(task, state, now, { result, error, worker: self });
  } else {
    book.renew(self, task, attempt, limits.assignmentLeaseMs, now);
  }
}
