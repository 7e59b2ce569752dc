import * as dagJson from '@ipld/dag-json';
import { base32 } from 'multiformats/bases/base32';
import type { CID } from 'multiformats/cid';
import { headRootSchema, leafSchema, rootSchema } from '../lattice/schema.ts';
import { isBucket, trieNodeSchema } from '../lattice/trie-node.ts';
import { DAG_JSON } from '../store/cid.ts';
import type { Store } from '../store/types.ts';

/**
 * What names a block in a collection: its multihash. blockstore-fs files blocks by multihash
 * alone, so a block kept under one codec (a file's raw bytes) keeps the same bytes under any.
 */
export const blockKey = (cid: CID): string => base32.encode(cid.multihash.bytes);

/** The kinds of GOHO block a collection may delete; origin roots are tiny and always kept. */
export type GohoKind = 'root' | 'node' | 'leaf';

/** What a block is, when it is a GOHO block a collection may delete. */
export function gohoKind(bytes: Uint8Array): GohoKind | undefined {
  let value: unknown;
  try {
    value = dagJson.decode(bytes);
  } catch {
    return undefined;
  }
  const root = rootSchema.safeParse(value);
  if (root.success) return root.data.origin !== null ? 'root' : undefined;
  if (trieNodeSchema.safeParse(value).success) return 'node';
  return leafSchema.safeParse(value).success ? 'leaf' : undefined;
}

/**
 * Marks `start` and every GOHO block it reaches: a head root's trie and leaves, a trie
 * node's subtree. Any block may be a start (a task's input is whatever a person named), so
 * a block is marked as itself whatever it is. Only local blocks are read: one this node lacks
 * is skipped, never fetched, and nothing under it can be here through it.
 */
export async function markFrom(
  store: Store,
  start: CID,
  marked: Set<string>,
  opts: { signal?: AbortSignal } = {},
): Promise<void> {
  const stack: CID[] = [start];
  for (let cid = stack.pop(); cid; cid = stack.pop()) {
    const key = blockKey(cid);
    if (marked.has(key)) continue;
    // Only dag-json links lead to more GOHO blocks: any other block is kept as itself.
    if (cid.code !== DAG_JSON) {
      marked.add(key);
      continue;
    }
    const value = await local(store, cid, opts.signal);
    if (value === undefined) continue;
    marked.add(key);
    const root = headRootSchema.safeParse(value);
    if (root.success) {
      stack.push(root.data.tree);
      continue;
    }
    const node = trieNodeSchema.safeParse(value);
    if (!node.success) continue;
    // Leaves link to nothing a collection deletes: marked unread.
    if (isBucket(node.data)) for (const leaf of node.data.bucket) marked.add(blockKey(leaf));
    else for (const child of node.data.branch) if (child) stack.push(child);
  }
}

async function local(store: Store, cid: CID, signal?: AbortSignal): Promise<unknown> {
  let bytes: Uint8Array;
  try {
    bytes = await store.getBlock(cid, { offline: true, signal });
  } catch {
    signal?.throwIfAborted();
    return undefined;
  }
  try {
    return dagJson.decode(bytes);
  } catch {
    return undefined;
  }
}
