import type { CID } from 'multiformats/cid';
import { parseWith } from '../errors/index.ts';
import type { Goho, Leaf } from '../lattice/types.ts';
import {
  type Assignment,
  assignmentSchema,
  type Outcome,
  outcomeSchema,
  PATHS,
} from './entries.ts';
import { type QueueView, viewOf } from './view.ts';

type Opts = { signal?: AbortSignal };

export interface TaskStatus {
  state: 'available' | 'assigned' | 'completed' | 'unknown';
  /** How many distinct attempts were assigned. */
  attempts: number;
  /** The completing worker, or the worker of the latest attempt. */
  worker?: string;
  result?: CID;
  error?: { code: string; message: string };
}

/** The Manager's Queue: grow-only sets available / assigned / completed in one GOHO. */
export interface Queue {
  readonly goho: Goho;
  /** Adds a task (by the CID of its block); a task already enqueued leaves the head as is. */
  enqueue(task: CID, opts?: Opts): Promise<CID>;
  assign(task: CID, a: Omit<Assignment, 'task'>, opts?: Opts): Promise<CID>;
  /** Records an outcome; only the first completion of a task counts. */
  complete(task: CID, outcome: Outcome, opts?: Opts): Promise<CID>;
  status(task: CID, opts?: Opts): Promise<TaskStatus>;
  /** The oldest enqueued task neither assigned nor completed, or null. */
  next(opts?: Opts): Promise<CID | null>;
  /** Enqueued tasks not completed yet (assigned or not), oldest first. */
  pending(opts?: Opts): Promise<CID[]>;
}

export interface QueueOptions {
  /** Who appends: this node's Matrix user id. */
  author: string;
}

export function createQueue(goho: Goho, opts: QueueOptions): Queue {
  const append = (path: string, value: Leaf['value'], key: string, o: Opts) =>
    goho.append({ path, action: 'append', value, key, author: opts.author }, o);
  let memo: { head: CID; view: QueueView } | undefined;
  // The three sets as appended: a `set` leaf on their paths (from a peer) cannot empty them.
  // Read after `head`: at worst they hold a little more than that head, never less.
  const view = async (o: Opts): Promise<QueueView> => {
    const head = goho.head();
    if (memo?.head.equals(head)) return memo.view;
    const lists = {
      available: await goho.appended(PATHS.available, o),
      assigned: await goho.appended(PATHS.assigned, o),
      completed: await goho.appended(PATHS.completed, o),
    };
    memo = { head, view: viewOf(lists) };
    return memo.view;
  };

  return {
    goho,
    enqueue: (task, o = {}) => append(PATHS.available, task, task.toString(), o),
    async assign(task, a, o = {}) {
      const value = parseWith(assignmentSchema, { ...a, task }, 'assignment');
      return append(PATHS.assigned, value, `${task}/${value.attempt}`, o);
    },
    async complete(task, outcome, o = {}) {
      const value = { ...parseWith(outcomeSchema, outcome, 'outcome'), task };
      return append(PATHS.completed, value, task.toString(), o);
    },
    async status(task, o = {}) {
      const v = await view(o);
      const key = task.toString();
      const tries = v.assigned.get(key) ?? [];
      const attempts = new Set(tries.map((t) => t.attempt)).size;
      const done = v.completed.get(key);
      if (done) {
        return done.ok
          ? { state: 'completed', attempts, worker: done.worker, result: done.result }
          : { state: 'completed', attempts, worker: done.worker, error: done.error };
      }
      const latest = tries.reduce<Assignment | undefined>(
        (best, t) =>
          !best || t.attempt > best.attempt || (t.attempt === best.attempt && t.term > best.term)
            ? t
            : best,
        undefined,
      );
      if (latest) return { state: 'assigned', attempts, worker: latest.worker };
      const known = v.available.some((c) => c.equals(task));
      return { state: known ? 'available' : 'unknown', attempts: 0 };
    },
    async next(o = {}) {
      const v = await view(o);
      const key = (c: CID) => c.toString();
      return v.available.find((c) => !v.assigned.has(key(c)) && !v.completed.has(key(c))) ?? null;
    },
    async pending(o = {}) {
      const v = await view(o);
      return v.available.filter((c) => !v.completed.has(c.toString()));
    },
  };
}
