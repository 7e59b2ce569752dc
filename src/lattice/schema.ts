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

/**
 * The highest clock a leaf may carry in a GOHO of `size` leaves. An append takes the highest
 * clock it knows plus one, so an honest GOHO's clocks stay within its size (a batch that
 * skips duplicates may add a few). A peer's leaf far past that would use up the clocks of
 * every later append (numbers stop at 2^53): it is refused, with the head that carries it,
 * on every node alike. Twice the size leaves room; a writer still cannot run clocks ahead of
 * the leaves it writes.
 */
export const maxLeafClock = (size: number): number => 2 * size + 1024;

export const leafSchema = z.strictObject({
  path: pathSchema,
  action: z.enum(['set', 'append']),
  value: z.unknown().refine((v) => v !== undefined, 'value is required'),
  key: z.string().min(1).max(1024).optional(),
  clock: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  author: z.string().min(1).max(255),
});

/**
 * Maps and lists nested deeper than this cannot be a leaf's value: 8 KB of `[[[…]]]` is 4000
 * levels, past what dag-json's encoder (and a reader's decoder) can walk without running out
 * of stack.
 */
export const MAX_VALUE_DEPTH = 100;

/**
 * Whether every node reads a value back as it was written. dag-json reads a map with the
 * key "/" as a link or as bytes, or cannot read it at all, so no plain object in a value may
 * have that key (CIDs and bytes are written in that form by the encoder itself); and a value
 * nested deeper than MAX_VALUE_DEPTH is not encoded at all. A leaf that broke this would be
 * refused by every peer, with every later head of its writer.
 */
export function isStorable(value: unknown): boolean {
  return storableProblem(value) === undefined;
}

/** What keeps a value from being a leaf's, or undefined when nothing does. */
export function storableProblem(value: unknown): string | undefined {
  const stack: [unknown, number][] = [[value, 0]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [v, depth] = next;
    if (typeof v !== 'object' || v === null || v instanceof Uint8Array) continue;
    if (CID.asCID(v) !== null) continue;
    if (depth >= MAX_VALUE_DEPTH) return `it nests maps or lists more than ${MAX_VALUE_DEPTH} deep`;
    if (!Array.isArray(v) && Object.hasOwn(v, '/')) {
      return 'a map in it has the key "/", which dag-json reserves for links and bytes';
    }
    for (const item of Object.values(v)) stack.push([item, depth + 1]);
  }
  return undefined;
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
