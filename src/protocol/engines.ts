import { z } from 'zod';

/** The engine runtimes a node can have. */
export const runtimeKindSchema = z.enum(['isolated-vm', 'docker', 'whisper']);

/** One engine a node offers in its `org.meshbot.node` state: the coordinator matches on it. */
export const engineOfferSchema = z.object({
  name: z.string().max(100),
  cid: z
    .string()
    .min(8)
    .max(200)
    .regex(/^[a-zA-Z0-9]+$/, 'a CID string'),
  /** The runtime it needs; absent while a `name@cid` allowlist entry is not downloaded yet,
   * and when it is one a later version added (the offer then reads as not downloaded). */
  runtime: runtimeKindSchema.optional().catch(undefined),
});

const isRuntimeKind = (kind: string): kind is RuntimeKind =>
  (runtimeKindSchema.options as readonly string[]).includes(kind);

/** The runtimes a node has started, without those a later version added. Absent in
 * announcements of older nodes. */
export const runtimesSchema = z
  .array(z.string().max(32))
  .max(10)
  .transform((kinds) => kinds.filter(isRuntimeKind))
  .optional();

export type EngineOffer = z.infer<typeof engineOfferSchema>;
export type RuntimeKind = z.infer<typeof runtimeKindSchema>;
