/**
 * The Verifier's vocabulary: its options, the trust it keeps per node and the snapshot that
 * persists that trust. Each has one zod schema from which its type is derived, so the config
 * layer and the persistence code validate against the same rules.
 */
import { z } from 'zod';
import { BadInputError, describeIssues } from '../errors/index.ts';

/** A source of uniform numbers in [0, 1); injected so every decision can be replayed. */
export type Random = () => number;

export const verifierOptionsSchema = z
  .strictObject({
    /**
     * q: the chance that a task of a trusted node is spot-checked by a second replica. A node
     * that always cheats survives n tasks with probability (1 - q)^n: 0.9^44 < 1%.
     */
    spotCheckRate: z.number().min(0).max(1).default(0.1),
    /**
     * Agreeing results in a row before a node is trusted; until then every one of its tasks
     * is replicated. BOINC uses ten.
     */
    warmup: z.number().int().min(0).max(10_000).default(10),
    /** The most replicas one task may run, the first worker's included. */
    maxReplicas: z.number().int().min(2).max(20).default(5),
    /** Equal results needed to accept a value. One would be no check at all. */
    quorum: z.number().int().min(2).max(20).default(2),
  })
  .refine((o) => o.quorum <= o.maxReplicas, {
    message: 'quorum must not exceed maxReplicas',
    path: ['quorum'],
  });

export type VerifierOptions = z.infer<typeof verifierOptionsSchema>;

export const VERIFIER_DEFAULTS: Readonly<VerifierOptions> = Object.freeze(
  verifierOptionsSchema.parse({}),
);

/** Matrix user ids are at most 255 bytes; anything longer in a snapshot is not ours. */
const id = z.string().min(1).max(255);
const count = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const nodeTrustSchema = z
  .strictObject({
    node: id,
    /** The person who runs the node; replicas of one task go to different owners. */
    owner: id,
    /** Results a quorum confirmed. */
    agreed: count,
    /** Results a quorum rejected. */
    disagreed: count,
    /** Agreeing results since the last disagreement or release; trust needs `warmup` of them. */
    streak: count,
    /** Quarantined nodes get no new work until their owner releases them. */
    quarantined: z.boolean(),
    quarantinedAt: count.optional(),
    /** Why the node was quarantined, for the room. */
    reason: z.string().max(1_000).optional(),
    /** Results compared with other replicas (agreed, disagreed or left undecided). */
    checked: count,
    /** Results accepted without a second replica (spot check skipped). */
    unchecked: count,
    /** When a result of this node was last compared. */
    lastCheckedAt: count.optional(),
  })
  .refine((t) => t.streak <= t.agreed, { message: 'streak exceeds agreed', path: ['streak'] })
  .refine((t) => t.checked >= t.agreed + t.disagreed, {
    message: 'checked is less than agreed + disagreed',
    path: ['checked'],
  })
  .refine((t) => t.quarantined || (t.quarantinedAt === undefined && t.reason === undefined), {
    message: 'quarantine details on a node that is not quarantined',
    path: ['quarantined'],
  });

export type NodeTrust = z.infer<typeof nodeTrustSchema>;

/** Plain JSON form of a TrustBook. Bounded so a hostile file cannot exhaust memory. */
export const trustSnapshotSchema = z
  .strictObject({
    version: z.literal(1),
    nodes: z.array(nodeTrustSchema).max(10_000),
  })
  .refine((s) => new Set(s.nodes.map((n) => n.node)).size === s.nodes.length, {
    message: 'a node appears twice',
    path: ['nodes'],
  });

export type TrustSnapshot = z.infer<typeof trustSnapshotSchema>;

/** Options from a partial object (a config section, a test): defaults filled, bad values named. */
export function verifierOptions(input: unknown = {}): VerifierOptions {
  const parsed = verifierOptionsSchema.safeParse(input);
  if (!parsed.success) {
    throw new BadInputError(`invalid verifier options: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}
