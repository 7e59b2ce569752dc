/**
 * The fields every custom event shares, checked the same way in each. A CID is checked by
 * parsing it: a string that only looks like one would throw later, wherever a handler parses
 * it, instead of being dropped with the event it came in.
 */
import { z } from 'zod';
import { isCidString } from '../store/cid.ts';

/** The shape of a CID string, not parsed: for a field its handler parses entry by entry. */
export const cidString = z
  .string()
  .min(8)
  .max(200)
  .regex(/^[a-zA-Z0-9]+$/, 'a CID string');
export const cid = cidString.refine(isCidString, 'a CID');
export const base64 = z
  .string()
  .max(60_000)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'base64');
export const userId = z.string().min(3).max(255).startsWith('@');
export const eventId = z.string().min(2).max(255).startsWith('$');
