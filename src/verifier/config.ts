import { z } from 'zod';
import { verifierOptionsSchema } from './types.ts';

/**
 * The Verifier in a node's config (key `verifier`). Off by default: a mesh of friends trusts
 * its members, and `replicas=k` on a `!run` asks for a check whatever this says. On, every
 * result is reported to the coordinator, which replicates the work of nodes in warm-up and
 * spot-checks trusted ones at `spotCheckRate`.
 */
export const verifierConfigSchema = verifierOptionsSchema.safeExtend({
  enabled: z.boolean().default(false),
});

export type VerifierConfig = z.infer<typeof verifierConfigSchema>;

/**
 * Makes this node return wrong results (config key `testing`): for the Verifier's tests and
 * demonstrations only, never for a node friends rely on.
 */
export const testingConfigSchema = z.strictObject({
  /** The chance that a result of this node is deliberately wrong. */
  wrongResultRate: z.number().min(0).max(1).default(0),
});
