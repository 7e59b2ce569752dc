import { z } from 'zod';
import { base64, cid, userId } from './fields.ts';

/**
 * The coordination events of the mesh (election, Manager leases, answers), one schema each.
 * They live beside `events.ts`; together they are the mesh's wire format.
 */
export const MESH_EVENT = {
  /** State event, state_key '': the coordinator's lease (holder, term). Renewed by its holder. */
  lease: 'org.meshbot.lease',
  /** Manager: the coordinator records accepted tasks that wait for a worker (batched). */
  accept: 'org.meshbot.accept',
  /** Manager: a worker keeps its assignments alive (batched). */
  renew: 'org.meshbot.renew',
  /** Manager: the coordinator withdraws tasks (batched). */
  cancel: 'org.meshbot.cancel',
  /** Verifier: the coordinator's verdicts on checked results; every node updates its trust. */
  verdict: 'org.meshbot.verdict',
  /** State event, state_key '': the room's settings, set by admitted users (`!autotranscribe`). */
  settings: 'org.meshbot.settings',
} as const;

/** The key a progress notice (and its edits) carries: not an answer, whatever its thread. */
export const PROGRESS_TAG = 'org.meshbot.progress';

/** The key a bot's threaded reply carries so every node knows the request was answered. */
export const REPLY_TAG = 'org.meshbot.reply';

/** The longest coordinator's lease a node may announce (and the config may set: `mesh.leaseMs`). */
export const MAX_LEASE_MS = 3_600_000;

export const leaseSchema = z.object({
  holder: userId,
  term: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  /** How long the lease lasts after each renewal, as the holder promises it. */
  leaseMs: z.number().int().min(500).max(MAX_LEASE_MS),
  /** Counts renewals: a state event identical to the current one would not be sent again. */
  renewal: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
});

export const acceptSchema = z.object({
  term: z.number().int().nonnegative(),
  tasks: z
    .array(z.object({ task: cid, block: base64 }))
    .min(1)
    .max(100),
});

export const renewSchema = z.object({
  leases: z
    .array(z.object({ task: cid, attempt: z.number().int().positive() }))
    .min(1)
    .max(500),
});

/** The longest reason a cancel event carries. */
export const MAX_CANCEL_REASON = 1_000;

export const cancelSchema = z.object({
  term: z.number().int().nonnegative(),
  tasks: z.array(cid).min(1).max(100),
  /** Why, as every node's book records it (default: its submitter cancelled it). */
  reason: z.string().max(MAX_CANCEL_REASON).optional(),
});

/** What a reply answers: a task's final state, or just the request (usage, help, refusals). */
export const replyTagSchema = z.object({
  task: cid.optional(),
  /** A state a later version added reads as none: the request is handled all the same. */
  state: z.enum(['done', 'failed', 'cancelled']).optional().catch(undefined),
  /** When the worker itself answers: the attempt, and its result or failure. */
  attempt: z.number().int().positive().optional(),
  result: cid.optional(),
  error: z.object({ code: z.string().max(64), message: z.string().max(2_000) }).optional(),
  /** The request answered, when the reply is to another event (an edit's, to the message). */
  request: z.string().max(255).optional(),
});

export const settingsSchema = z.object({
  /** Every voice message posted in the room is transcribed (`!run whisper` on it). */
  autoTranscribe: z.boolean().optional(),
});

export type Lease = z.infer<typeof leaseSchema>;
export type RoomSettings = z.infer<typeof settingsSchema>;
export type AcceptEvent = z.infer<typeof acceptSchema>;
export type RenewEvent = z.infer<typeof renewSchema>;
export type CancelEvent = z.infer<typeof cancelSchema>;

export const verdictItemSchema = z.object({
  task: cid,
  /** Nodes whose result the quorum accepted, and nodes whose result it rejected. */
  agreeing: z.array(userId).max(20),
  dissenting: z.array(userId).max(20),
  /** The result the quorum agreed on; absent when none was (the task failed unverified). */
  result: cid.optional(),
  /** How many results were compared. Every node's book takes the verdict's outcome from these two. */
  of: z.number().int().min(1).max(100).optional(),
});

export const verdictSchema = z.object({
  term: z.number().int().nonnegative(),
  verdicts: z.array(verdictItemSchema).max(100),
  /** Quarantined nodes their owner let back in (`!trust release`): in warm-up again. */
  released: z.array(userId).max(20).optional(),
});

export type Verdict = z.infer<typeof verdictItemSchema>;
export type ReplyTag = z.infer<typeof replyTagSchema>;
