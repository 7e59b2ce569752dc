import { CID } from 'multiformats/cid';
import { z } from 'zod';

/** A CID object as decoded from dag-json. */
export const cidSchema = z.custom<CID>((v) => CID.asCID(v) !== null, { message: 'expected a CID' });

/** Slash-separated, no empty segments: `available`, `results/whisper`. */
export const pathSchema = z
  .string()
  .min(1)
  .max(512)
  .regex(/^[^/]+(\/[^/]+)*$/, 'expected a slash-separated path without empty segments');

export const leafSchema = z.strictObject({
  path: pathSchema,
  action: z.enum(['set', 'append']),
  value: z.unknown().refine((v) => v !== undefined, 'value is required'),
  key: z.string().min(1).max(1024).optional(),
  clock: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  author: z.string().min(1).max(255),
});

/** A change record; the GOHO's value is the fold of its leaves. */
export type Leaf = z.infer<typeof leafSchema>;

const sortedUnique = (cids: CID[]) =>
  cids.every((cid, i) => i === 0 || (cids[i - 1] as CID).toString() < cid.toString());

/** The first version of a GOHO: its CID is the GOHO's origin. */
export const originRootSchema = z.strictObject({
  type: z.literal('goho'),
  origin: z.null(),
  name: z.string().min(1).max(255),
  leaves: z.array(cidSchema).length(0),
});

/** Every later version: the whole leaf set, sorted by CID string, without duplicates. */
export const headRootSchema = z.strictObject({
  type: z.literal('goho'),
  origin: cidSchema,
  leaves: z
    .array(cidSchema)
    .min(1)
    .refine(sortedUnique, 'leaves must be sorted by CID string and unique'),
});

export const rootSchema = z.union([originRootSchema, headRootSchema]);
export type OriginRoot = z.infer<typeof originRootSchema>;
export type HeadRoot = z.infer<typeof headRootSchema>;
export type Root = z.infer<typeof rootSchema>;
