import { CID } from 'multiformats/cid';
import type { Logger } from '../log/logger.ts';
import { DAG_JSON } from '../store/cid.ts';
import type { Store } from '../store/types.ts';
import type { GcSession } from './barrier.ts';
import { blockKey, type GohoKind, gohoKind, markFrom } from './mark.ts';

const OPEN_BRACE = 0x7b;

export interface GcResult {
  /** GOHO blocks deleted. */
  deleted: number;
  /** Their size, bytes. */
  bytes: number;
  /** Blocks kept because a kept head (or another kept block) reaches them. */
  marked: number;
  /** Old GOHO blocks kept because the node used them while the collection ran. */
  inUse: number;
}

interface Found {
  cid: CID;
  key: string;
  kind: GohoKind;
  bytes: number;
}

/**
 * Deletes old GOHO versions: head roots, trie nodes and leaves that nothing in `keep` reaches
 * (heads, and any other block that must stay with what it reaches: see markFrom). Only local
 * blocks are read (a missing one is skipped, never fetched), and only GOHO blocks are deleted:
 * files, tasks, results and engines stay.
 *
 * `keep` is read after the store is listed, so a change made while the store is listed is
 * kept; later ones are the session's to keep (see GcBarrier). Head roots go before trie
 * nodes and leaves, and a root that stays keeps what it reaches: a head whose root is still
 * here can always be read whole, even after a collection stopped half-way.
 */
export async function collectGarbage(
  session: GcSession,
  keep: () => Promise<readonly CID[]> | readonly CID[],
  log: Logger,
  opts: { signal?: AbortSignal } = {},
): Promise<GcResult> {
  const { store } = session;
  const began = Date.now();
  const found = await listGohoBlocks(store, opts);
  const starts = await keep();
  const marked = new Set<string>();
  for (const cid of starts) await markFrom(store, cid, marked, opts);
  const result: GcResult = { deleted: 0, bytes: 0, marked: 0, inUse: 0 };
  for (const kind of ['root', 'other'] as const) {
    for (const f of found) {
      if ((f.kind === 'root') !== (kind === 'root') || marked.has(f.key)) continue;
      opts.signal?.throwIfAborted();
      if (await session.delete(f.cid)) {
        result.deleted++;
        result.bytes += f.bytes;
      } else {
        result.inUse++;
        await markFrom(store, f.cid, marked, opts);
      }
    }
  }
  result.marked = marked.size;
  log.info('GOHO garbage collected', { ...result, kept: starts.length, ms: Date.now() - began });
  return result;
}

/** Every GOHO block a collection may delete, in the store now. */
async function listGohoBlocks(store: Store, opts: { signal?: AbortSignal }): Promise<Found[]> {
  const found: Found[] = [];
  for await (const listed of store.blocks(opts)) {
    // The listing may not know codecs (see Store.blocks): a GOHO block is a dag-json map, so
    // only blocks that start as one are read whole; a file's big chunks are not.
    const first = await store.peekBlock(listed, 1, opts);
    if (first?.[0] !== OPEN_BRACE) continue;
    const cid = CID.createV1(DAG_JSON, listed.multihash);
    const bytes = await store.getBlock(cid, { offline: true, signal: opts.signal }).catch(() => {
      // Not readable as dag-json (a store that keys by codec holds it under another): not ours.
      opts.signal?.throwIfAborted();
      return undefined;
    });
    const kind = bytes && gohoKind(bytes);
    if (kind && bytes) found.push({ cid, key: blockKey(cid), kind, bytes: bytes.byteLength });
  }
  return found;
}
