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

/**
 * Whether every node reads a value back as it was written. dag-json reads a map with the
 * key "/" as a link or as bytes, or cannot read it at all, so no plain object in a value may
 * have that key (CIDs and bytes are written in that form by the encoder itself). A leaf
 * that broke this would be refused by every peer, with every later head of its writer.
 */
export function isStorable(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null || v instanceof Uint8Array) continue;
    if (Array.isArray(v)) {
      for (const item of v) stack.push(item);
      continue;
    }
    if (CID.asCID(v) !== null) continue;
    if (Object.hasOwn(v, '/')) return false;
    for (const item of Object.values(v)) stack.push(item);
  }
  return true;
}

/** A change record; the GOHO's value is the fold of its leaves. */
export type Leaf = z.infer<typeof leafSchema>;

/** The first version of a GOHO: its CID is the GOHO's origin, fixed by its name. */
export const originRootSchema = z.strictObject({
  type: z.literal('goho'),
  version: z.literal(2),
  origin: z.null(),
  name: z.string().min(1).max(255),
});

/**
 * Every later version. `tree` is the trie of leaf CIDs (see trie.ts); `size` and `clock`
 * (the number of leaves and their highest clock) are derived from the leaf set, so equal
 * sets still give equal roots.
 */
export const headRootSchema = z.strictObject({
  type: z.literal('goho'),
  version: z.literal(2),
  origin: cidSchema,
  size: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  clock: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  tree: cidSchema,
});

export const rootSchema = z.union([originRootSchema, headRootSchema]);
export type OriginRoot = z.infer<typeof originRootSchema>;
export type HeadRoot = z.infer<typeof headRootSchema>;
export type Root = z.infer<typeof rootSchema>;
