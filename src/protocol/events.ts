import { z } from 'zod';
import { engineOfferSchema, runtimesSchema } from './engines.ts';
import { base64, cid, cidString, eventId, userId } from './fields.ts';

/**
 * The custom room events of the mesh. Each wire format has one schema here; its type is
 * derived from it. Every incoming event is parsed with these before anything reads it.
 *
 * Keys a schema does not know are dropped, not refused, as the Matrix spec asks of clients
 * (here and in ./hpcp.ts, ./manager.ts, ./engines.ts): a node reads the events of a newer
 * version, without what is new in them. A key it knows with a value it does not take still
 * refuses the event. A change that older nodes must not miss needs a new event type.
 */
export const EVENT = {
  /** State event, state_key = the node's user id: what the node can run. */
  node: 'org.meshbot.node',
  /** HPCP: new GOHO heads; the schema and the other HPCP events are in ./hpcp.ts. */
  head: 'org.meshbot.head',
  /** Manager: the coordinator hands tasks to workers (batched). */
  assign: 'org.meshbot.assign',
  /** Manager: workers report finished tasks (batched). */
  complete: 'org.meshbot.complete',
  /** Blocks: a node asks for blocks it lacks. */
  want: 'org.meshbot.want',
  /** Blocks: a node answers a want, inline or as a CAR file in the media repository. */
  blocks: 'org.meshbot.blocks',
} as const;

// Each block is checked on its own (its CID parsed, its bytes hashed): one bad block is
// dropped, and the event's other content still counts.
export const inlineBlockSchema = z.object({ cid: cidString, data: base64 });

export const nodeStateSchema = z.object({
  version: z.string().max(50),
  engines: z.array(engineOfferSchema).max(500),
  runtimes: runtimesSchema,
  cores: z.number().int().nonnegative(),
  arch: z.string().max(50),
  memoryMb: z.number().int().nonnegative(),
  gpu: z.boolean(),
  capacity: z.number().int().nonnegative(),
  load: z.number().int().nonnegative(),
  ts: z.number().int().nonnegative(),
  /** Who runs this node: the Verifier checks one person's results on another's nodes. */
  owner: userId.optional(),
  /** The Whisper models this node has, so a node that lacks one fetches it from here. */
  models: z
    .array(
      z.object({
        name: z.string().max(64),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
        cid: cid.optional(),
        bytes: z.number().int().nonnegative().optional(),
      }),
    )
    .max(100)
    .optional(),
});

export const assignmentSchema = z.object({
  task: cid,
  worker: userId,
  attempt: z.number().int().positive(),
  /** The task's dag-json block, so the worker needs no fetch to read it. */
  block: base64,
  /**
   * Report the outcome to the coordinator instead of answering the request: the Verifier may
   * compare it with other nodes' (set on every assignment while it is on, so no worker can
   * tell which of its results will be checked).
   */
  report: z.boolean().optional(),
});

/** The longest assignment lease an assign event may carry (and `mesh.assignmentLeaseMs`). */
export const MAX_ASSIGNMENT_LEASE_MS = 86_400_000;

export const assignSchema = z.object({
  term: z.number().int().nonnegative(),
  assignments: z.array(assignmentSchema).min(1).max(100),
  /** How long each assignment lives unless its worker renews it (org.meshbot.renew). */
  leaseMs: z.number().int().min(500).max(MAX_ASSIGNMENT_LEASE_MS).optional(),
});

const failureSchema = z.object({
  code: z.string().max(64),
  message: z.string().max(2_000),
  /** Whether another node (or another try) may succeed; the coordinator then retries. */
  retryable: z.boolean().optional(),
});

export const completionSchema = z.object({
  task: cid,
  attempt: z.number().int().positive(),
  ok: z.boolean(),
  result: cid.optional(),
  error: failureSchema.optional(),
  wallMs: z.number().nonnegative().optional(),
  /** CPU time of the run in its sandbox, as its runtime measured it (whole ms: no floats in events). */
  cpuMs: z.number().int().nonnegative().optional(),
  /** The run split the task into parts instead: `result` is the split plan's block. */
  split: z.boolean().optional(),
  /** The size of the output `result` names, in bytes (a pipeline's stage reads it by CID). */
  bytes: z.number().int().nonnegative().optional(),
});

export const completeSchema = z.object({
  completions: z.array(completionSchema).min(1).max(100),
  /** Result blocks, when small, so the requester can reply at once. */
  blocks: z.array(inlineBlockSchema).max(200).default([]),
});

export const wantSchema = z.object({
  cids: z.array(cid).min(1).max(50),
  /** A nonce that answers echo, so a requester knows which answers are for it. */
  nonce: z.string().max(64),
});

export const blocksSchema = z.object({
  nonce: z.string().max(64),
  blocks: z.array(inlineBlockSchema).max(500).default([]),
  /** A CAR file in the media repository, for block sets too big for an event. */
  car: z.string().startsWith('mxc://').max(500).optional(),
  /** CIDs the sender does not have. */
  missing: z.array(cid).max(50).default([]),
});

export type NodeState = z.infer<typeof nodeStateSchema>;
export type Assignment = z.infer<typeof assignmentSchema>;
export type AssignEvent = z.infer<typeof assignSchema>;
export type Completion = z.infer<typeof completionSchema>;
export type CompleteEvent = z.infer<typeof completeSchema>;
export type WantEvent = z.infer<typeof wantSchema>;
export type BlocksEvent = z.infer<typeof blocksSchema>;
export type InlineBlock = z.infer<typeof inlineBlockSchema>;
export { eventId as eventIdSchema };
