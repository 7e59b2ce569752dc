import * as dagJson from '@ipld/dag-json';
import type { CID } from 'multiformats/cid';
import { z } from 'zod';
import { cidOf, DAG_JSON } from '../store/cid.ts';
import type { Store } from '../store/types.ts';
import { readValid } from './blocks.ts';
import { Budget } from './budget.ts';
import { cidSchema } from './schema.ts';

/**
 * The leaf set is a hash trie keyed by leaf CID: a node holding more than BUCKET_MAX leaves
 * is a branch of FANOUT children, chosen by the next 4 bits of each leaf's sha2-256 digest.
 * The shape is a function of the set alone, so equal sets give equal CIDs however they were
 * built, one append rewrites one path (O(log n) blocks), and two heads differ only along
 * the paths to their differing leaves.
 */
export const FANOUT = 16;
export const BUCKET_MAX = 32;
/** 256 digest bits, 4 per level. */
export const MAX_DEPTH = 64;

const byString = (a: CID, b: CID) => {
  const x = a.toString();
  const y = b.toString();
  return x < y ? -1 : x > y ? 1 : 0;
};
const sortedUnique = (cids: CID[]) =>
  cids.every((c, i) => i === 0 || byString(cids[i - 1] as CID, c) < 0);

export const bucketSchema = z.strictObject({
  bucket: z
    .array(cidSchema)
    .min(1)
    .max(BUCKET_MAX)
    .refine(sortedUnique, 'bucket leaves must be sorted by CID string and unique'),
});
export const branchSchema = z.strictObject({
  branch: z.array(cidSchema.nullable()).length(FANOUT),
});
export const trieNodeSchema = z.union([bucketSchema, branchSchema]);
export type Bucket = z.infer<typeof bucketSchema>;
export type Branch = z.infer<typeof branchSchema>;
export type TrieNode = Bucket | Branch;
export type Ref = CID | null;

export const isBucket = (n: TrieNode): n is Bucket => 'bucket' in n;

/** The 4-bit digit of a leaf's digest that picks its child at `depth`. */
export function nibble(cid: CID, depth: number): number {
  const byte = cid.multihash.digest[depth >> 1] ?? 0;
  return depth & 1 ? byte & 15 : byte >> 4;
}

export const sortCids = (cids: CID[]): CID[] => [...cids].sort(byString);

/** Leaves grouped by their digit at `depth`. */
export function groupByNibble(leaves: readonly CID[], depth: number): Map<number, CID[]> {
  const groups = new Map<number, CID[]>();
  for (const leaf of leaves) {
    const i = nibble(leaf, depth);
    const g = groups.get(i);
    if (g) g.push(leaf);
    else groups.set(i, [leaf]);
  }
  return groups;
}

/**
 * What a TrieIo keeps decoded, counted in CIDs (a bucket's leaves, a branch's children). A
 * decoded CID takes about 500 bytes of heap (its bytes, its digest and their buffers): some
 * 4 MiB per GOHO. The newest paths, which every append and merge reads, stay; an old
 * version's nodes are read again only by a merge with a peer that is behind, from the store.
 * (It was 50,000 nodes, up to 1.6 million CIDs: a busy node's heap grew with every task.)
 */
export const CACHE_CIDS = 8_192;

const weightOf = (node: TrieNode): number =>
  1 + (isBucket(node) ? node.bucket.length : node.branch.filter((c) => c !== null).length);

interface Cached {
  node: TrieNode;
  /** The store's gcEpoch when the block was last read, written or found there. */
  epoch: number;
}

/**
 * Reads and writes trie nodes. Nodes are immutable, so decoded ones are kept (bounded);
 * every read that misses the cache is charged to the operation's budget. A node cached
 * before a garbage collection began is checked against the store once before it is handed
 * out again (Store.gcEpoch).
 */
export class TrieIo {
  readonly #store: Store;
  /** Decoded nodes by CID string; the map's order is the order of last use. */
  readonly #cache = new Map<string, Cached>();
  #cachedCids = 0;
  /** Blocks written since creation (for benchmarks and tests). */
  written = 0;

  constructor(store: Store) {
    this.#store = store;
  }

  async get(
    cid: CID,
    opts: { signal?: AbortSignal; budget?: Budget; offline?: boolean } = {},
  ): Promise<TrieNode> {
    const key = cid.toString();
    const hit = this.#cache.get(key);
    if (hit) {
      const epoch = this.#epoch();
      if (hit.epoch === epoch) {
        // A new version may link to it: a garbage collection running now must keep it.
        this.#store.touch?.(cid);
      } else {
        // A collection began since: the node may be gone from the store (or go with it), and
        // a new version linking to it would name a block this node lacks.
        await this.#stored(cid, hit.node, opts);
        hit.epoch = epoch;
      }
      // Last used now: to the end of the map's order.
      this.#cache.delete(key);
      this.#cache.set(key, hit);
      return hit.node;
    }
    const epoch = this.#epoch();
    const node = await readValid(this.#store, cid, trieNodeSchema, 'GOHO trie node', {
      signal: opts.signal,
      offline: opts.offline,
      budget: opts.budget ?? new Budget(),
    });
    this.#remember(key, node, epoch);
    return node;
  }

  async put(node: TrieNode, opts: { signal?: AbortSignal } = {}): Promise<CID> {
    const bytes = dagJson.encode(node);
    const cid = cidOf(DAG_JSON, bytes);
    const epoch = this.#epoch();
    // Written even when cached: a collected block must come back when a new head needs it.
    await this.#store.putBlock(cid, bytes, opts);
    this.written += 1;
    this.#remember(cid.toString(), node, epoch);
    return cid;
  }

  #epoch(): number {
    return this.#store.gcEpoch?.() ?? 0;
  }

  /**
   * Makes sure a cached node is in the store (asking for it keeps it from a collection
   * running): written back from the cache when it went; immutable, it has the same bytes.
   */
  async #stored(
    cid: CID,
    node: TrieNode,
    opts: { signal?: AbortSignal; offline?: boolean },
  ): Promise<void> {
    if (await this.#store.hasBlock(cid, opts)) return;
    const bytes = dagJson.encode(node);
    if (cidOf(DAG_JSON, bytes).equals(cid)) await this.#store.putBlock(cid, bytes, opts);
    // Not in its canonical encoding (a peer's): fetched again like any missing block.
    else await this.#store.getBlock(cid, opts);
  }

  #remember(key: string, node: TrieNode, epoch: number): void {
    const known = this.#cache.get(key);
    if (known) {
      this.#cache.delete(key);
      this.#cachedCids -= weightOf(known.node);
    }
    this.#cache.set(key, { node, epoch });
    this.#cachedCids += weightOf(node);
    for (const [oldest, cached] of this.#cache) {
      if (this.#cachedCids <= CACHE_CIDS) break;
      this.#cache.delete(oldest);
      this.#cachedCids -= weightOf(cached.node);
    }
  }

  /** Decoded nodes held, and the CIDs in them (for tests). */
  get cached(): { nodes: number; cids: number } {
    return { nodes: this.#cache.size, cids: this.#cachedCids };
  }
}
