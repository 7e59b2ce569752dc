import { z } from 'zod';
import { EVENT, inlineBlockSchema } from './events.ts';
import { cid, userId } from './fields.ts';

/**
 * HPCP (Hash Pointer Collaboration Protocol) over Matrix: nodes announce `origin -> head` for
 * each GOHO, ask for current heads when they join or restart, and archivists say which heads
 * they hold. Each wire format has one schema here; incoming events are parsed with them.
 */
export const HPCP_EVENT = {
  /** New heads of one or more GOHOs, with what a peer needs to fetch their blocks. */
  heads: EVENT.head,
  /** A joining or restarting node asks for current heads, saying which ones it has. */
  request: 'org.meshbot.head.request',
  /** An archivist says which heads it has pinned, and who owns it. */
  archive: 'org.meshbot.archive',
} as const;

/** A dialable libp2p TCP address ending in the peer id. */
const multiaddr = z
  .string()
  .max(300)
  .regex(/^\/(ip4|ip6|dns4|dns6)\/[^/]+\/tcp\/\d+\/p2p\/[a-zA-Z0-9]+$/, 'a /…/tcp/…/p2p/… address');

export const headEntrySchema = z.object({
  origin: cid,
  head: cid,
  /** Leaves at this head, so a peer can tell how far behind it is. */
  size: z.number().int().nonnegative(),
  /** The older head the attached blocks extend: a peer holding it needs nothing else. */
  prev: cid.optional(),
});

export const headsSchema = z.object({
  heads: z.array(headEntrySchema).min(1).max(20),
  /** New blocks (root, trie nodes, leaves) since `prev`, while they fit in the event. */
  blocks: z.array(inlineBlockSchema).max(300).default([]),
  /** The same as a CAR file in the media repository, when too big for the event. */
  car: z.string().startsWith('mxc://').max(500).optional(),
  /** Where the sender takes bitswap connections, for peers that can dial it. */
  addrs: z.array(multiaddr).max(8).default([]),
  /** Why this was sent: a local change, a merge of others' heads, or an answer to a request
   * (a reason a later version added reads as a change: no receiver acts on it). */
  reason: z.enum(['change', 'merge', 'answer']).catch('change'),
});

export const requestSchema = z.object({
  /** The heads the asker holds; origins it does not list it holds at their origin. */
  heads: z.array(z.object({ origin: cid, head: cid })).max(20),
  nonce: z.string().min(1).max(64),
});

export const archiveSchema = z.object({
  /** The person who runs the archiving node (as configured on it). */
  owner: userId,
  pins: z.array(z.object({ origin: cid, head: cid })).max(20),
});

export type HeadEntry = z.infer<typeof headEntrySchema>;
export type HeadsEvent = z.infer<typeof headsSchema>;
export type HeadsRequest = z.infer<typeof requestSchema>;
export type ArchiveEvent = z.infer<typeof archiveSchema>;
