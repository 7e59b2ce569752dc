import * as dagJson from '@ipld/dag-json';
import type { CID } from 'multiformats/cid';
import { headRootSchema, leafSchema, rootSchema } from '../lattice/schema.ts';
import { isBucket, trieNodeSchema } from '../lattice/trie-node.ts';
import type { Logger } from '../log/logger.ts';
import { DAG_JSON } from '../store/cid.ts';
import type { Store } from '../store/types.ts';

export interface GcResult {
  /** GOHO blocks deleted. */
  deleted: number;
  /** Blocks kept because a kept head reaches them. */
  marked: number;
}

/**
 * Deletes old GOHO versions: head roots, trie nodes and leaves that no kept head reaches.
 * Only local blocks are read (a missing one is skipped, never fetched), and only blocks
 * that are GOHO blocks are deleted: files, tasks, results and engines stay.
 */
export async function collectGarbage(
  store: Store,
  keep: readonly CID[],
  log: Logger,
  opts: { signal?: AbortSignal } = {},
): Promise<GcResult> {
  const marked = new Set<string>();
  for (const head of keep) await markGoho(store, head, marked, opts);
  let deleted = 0;
  for await (const cid of store.blocks(opts)) {
    if (cid.code !== DAG_JSON || marked.has(cid.toString())) continue;
    const bytes = await store.getBlock(cid, { offline: true, signal: opts.signal });
    if (!isGohoBlock(bytes)) continue;
    await store.deleteBlock(cid, opts);
    deleted++;
  }
  log.info('GOHO garbage collected', { deleted, marked: marked.size, heads: keep.length });
  return { deleted, marked: marked.size };
}

async function local(store: Store, cid: CID, signal?: AbortSignal): Promise<unknown> {
  try {
    return dagJson.decode(await store.getBlock(cid, { offline: true, signal }));
  } catch {
    return undefined;
  }
}

async function markGoho(
  store: Store,
  head: CID,
  marked: Set<string>,
  o: { signal?: AbortSignal },
): Promise<void> {
  const root = headRootSchema.safeParse(await local(store, head, o.signal));
  if (!root.success) return;
  marked.add(head.toString());
  const stack: CID[] = [root.data.tree];
  while (stack.length > 0) {
    const cid = stack.pop() as CID;
    if (marked.has(cid.toString())) continue;
    const node = trieNodeSchema.safeParse(await local(store, cid, o.signal));
    if (!node.success) continue;
    marked.add(cid.toString());
    if (isBucket(node.data)) for (const leaf of node.data.bucket) marked.add(leaf.toString());
    else for (const child of node.data.branch) if (child) stack.push(child);
  }
}

/** A head root, trie node or leaf; origin roots are tiny and kept. */
function isGohoBlock(bytes: Uint8Array): boolean {
  let value: unknown;
  try {
    value = dagJson.decode(bytes);
  } catch {
    return false;
  }
  const root = rootSchema.safeParse(value);
  if (root.success) return root.data.origin !== null;
  return trieNodeSchema.safeParse(value).success || leafSchema.safeParse(value).success;
}
