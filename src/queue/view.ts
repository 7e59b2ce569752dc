import type { CID } from 'multiformats/cid';
import { cidSchema } from '../lattice/schema.ts';
import {
  type Assignment,
  assignmentSchema,
  type Completion,
  completionSchema,
  type PATHS,
} from './entries.ts';

/** The Queue's three sets, read from a GOHO value. Invalid entries (hostile peers) are skipped. */
export interface QueueView {
  /** Enqueued tasks, oldest first, each once. */
  available: CID[];
  assigned: Map<string, Assignment[]>;
  /** The first completion of each task (first in leaf order wins). */
  completed: Map<string, Completion>;
}

/** The values appended at each of the Queue's paths (Goho.appended: `set` leaves have no say). */
export type QueueLists = Record<keyof typeof PATHS, readonly unknown[]>;

export function viewOf(lists: QueueLists): QueueView {
  const available: CID[] = [];
  const seen = new Set<string>();
  for (const entry of lists.available) {
    const cid = cidSchema.safeParse(entry);
    if (!cid.success || seen.has(cid.data.toString())) continue;
    seen.add(cid.data.toString());
    available.push(cid.data);
  }
  const assigned = new Map<string, Assignment[]>();
  for (const entry of lists.assigned) {
    const a = assignmentSchema.safeParse(entry);
    if (!a.success) continue;
    const key = a.data.task.toString();
    const list = assigned.get(key);
    if (list) list.push(a.data);
    else assigned.set(key, [a.data]);
  }
  const completed = new Map<string, Completion>();
  for (const entry of lists.completed) {
    const c = completionSchema.safeParse(entry);
    if (c.success && !completed.has(c.data.task.toString())) {
      completed.set(c.data.task.toString(), c.data);
    }
  }
  return { available, assigned, completed };
}
