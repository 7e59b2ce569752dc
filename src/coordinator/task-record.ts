/**
 * One task as the Manager protocol tracks it, on every node of the room. `split`: its worker
 * cut the input into parts (tasks of their own); it is done when they are, and joined.
 */
export type TaskState = 'queued' | 'assigned' | 'split' | 'done' | 'failed' | 'cancelled';

export const FINAL: ReadonlySet<TaskState> = new Set(['done', 'failed', 'cancelled']);

/**
 * Why a book no longer needs a run of a task: it was cancelled (`!cancel`, its request
 * deleted), or a report settled it (a node's result or failure made it final, or its plan
 * split it). A node's run of it stops then.
 */
export type Settlement = 'cancelled' | 'settled';

export interface Failure {
  attempt: number;
  worker?: string;
  code: string;
  message: string;
}

export interface TaskRecord {
  /** The task's CID (its id). */
  id: string;
  /** The task's dag-json block, base64; dropped once the task is final and answered. */
  block?: string;
  /** The `!run` event, its sender and the engine asked for. */
  request: string;
  /** The thread the `!run` was posted in (its root event id), if it was. */
  thread?: string;
  submitter: string;
  engine: string;
  state: TaskState;
  /** The latest attempt number assigned (0 while never assigned). */
  attempt: number;
  worker?: string;
  /** Every node this task was ever assigned to: only they may report its outcome. */
  assignedTo?: string[];
  term?: number;
  /** Local time the current assignment expires unless renewed. */
  leaseUntil?: number;
  failures: Failure[];
  result?: string;
  /** The size of the output `result` names, as its worker reported it. */
  resultBytes?: number;
  error?: { code: string; message: string };
  /** A node replied with the final state, so nobody answers again. */
  answered: boolean;
  acceptedAt: number;
  assignedAt?: number;
  finishedAt?: number;
  /** Acceptance order, for first-come-first-served within one submitter. */
  seq: number;
  /** A part of a split task: the parent's id. Parts are never answered on their own. */
  parent?: string;
  /** A split task: its parts' ids, in order (known once the plan is read); a pipeline: its tasks. */
  parts?: string[];
  /** The task carries a pipeline (state `split` once its own output is in). */
  pipeline?: true;
  /** The Verifier has decided whether this result is checked. */
  checked?: true;
  /** Its result is being compared with replicas' (state `split`, the replicas as parts). */
  verifying?: true;
  /** How the replicas settled it: nodes that agreed on the result, of those that ran it. */
  verified?: { agreeing: number; of: number };
}

/** What a task block says about itself (decoded and checked by the caller). */
export interface TaskInfo {
  request: string;
  /** The thread the request was posted in (its root event id), if it was. */
  thread?: string;
  submitter: string;
  engine: string;
  /** The split task or pipeline this one is a part of. */
  parent?: string;
  /** The task carries a pipeline: its output starts it, and the pipeline's result answers it. */
  pipeline?: true;
}

/** What the Verifier made of a checked task: the result a quorum agreed on, or why none. */
export type CheckOutcome =
  | { result: string; worker: string; verified: { agreeing: number; of: number } }
  | { error: { code: string; message: string } };

/** A command seen in the room and not yet handled by a coordinator. */
export interface PendingRequest {
  id: string;
  sender: string;
  body: string;
  /** The request's `m.relates_to`, so a reply lands in the right thread. */
  relatesTo?: unknown;
  seenAt: number;
  /** The message this one edits into a command: nothing runs, its sender is told so. */
  edits?: string;
}

/** Every failure of a task, one line each, for the final answer. */
export function reasons(rec: TaskRecord): string {
  return rec.failures.map((f) => `attempt ${f.attempt} on ${f.worker}: ${f.message}`).join('; ');
}

/** What a TaskBook saves and reads back (book-file.ts). */
export interface BookSnapshot {
  seq: number;
  tasks: TaskRecord[];
  requests: PendingRequest[];
  handled: string[];
  /** Tasks withdrawn before this book knew them: [id, why]. */
  withdrawn?: [string, string][];
  /** Requests their senders deleted: [request, sender]. */
  deletedRequests?: [string, string][];
  /** The Verifier's trust records (checked when read back). */
  trust?: unknown;
  /** Who held the lease terms this node remembers: [term, holder] (checked when read back). */
  terms?: unknown;
  /** The tasks whose verdicts the trust records hold (checked when read back). */
  verdicts?: unknown;
}
