import { CarReader } from '@ipld/car';
import * as dagJson from '@ipld/dag-json';
import { createUnsafe } from 'multiformats/block';
import { CID } from 'multiformats/cid';
import { decodeInline } from '../blocks/codec.ts';
import { MAX_BLOCK_BYTES } from '../lattice/budget.ts';
import type { InlineBlock } from '../protocol/events.ts';
import { DAG_JSON, verifyBlock } from '../store/cid.ts';
import type { RoomHpcpDeps } from './types.ts';

interface Attached {
  cid: CID;
  bytes: Uint8Array;
}

/**
 * Stores the blocks an admitted node attached to its announcement (RoomHpcp has kept only
 * the heads of this room's GOHOs): those the heads reach through the attached blocks, each
 * verified against its CID and within the block limit. Anything else is dropped and logged:
 * an announcement carries what its heads added, so an unrelated block is no part of the
 * mesh's state and would only take disk space until a garbage collection. A bad block is
 * skipped; the merge then fetches (or fails on) what is still missing.
 */
export async function takeInline(
  d: RoomHpcpDeps,
  blocks: readonly InlineBlock[],
  heads: readonly CID[],
): Promise<void> {
  const attached: Attached[] = [];
  for (const b of blocks) {
    try {
      attached.push(decodeInline(b));
    } catch (err) {
      d.log.warn('announced block rejected', { err });
    }
  }
  await keep(d, attached, heads);
}

/** Downloads the CAR file of an announcement, within the byte limit, and stores as `takeInline`. */
export async function takeCar(
  d: RoomHpcpDeps,
  mxc: string,
  heads: readonly CID[],
  signal?: AbortSignal,
): Promise<void> {
  const bytes = await d.client.download(mxc, d.options.maxCarBytes, signal);
  const reader = await CarReader.fromBytes(bytes);
  const attached: Attached[] = [];
  for await (const b of reader.blocks())
    attached.push({ cid: CID.asCID(b.cid) as CID, bytes: b.bytes });
  await keep(d, attached, heads);
}

async function keep(d: RoomHpcpDeps, attached: Attached[], heads: readonly CID[]): Promise<void> {
  const reached = reachable(d, attached, heads);
  const dropped = attached.length - reached.length;
  if (dropped > 0) {
    d.log.warn('announced blocks the heads do not reach dropped', {
      dropped,
      kept: reached.length,
    });
  }
  for (const { cid, bytes } of reached) {
    try {
      await d.store.putBlock(cid, bytes);
    } catch (err) {
      d.log.warn('announced block rejected', { cid: cid.toString(), err });
    }
  }
}

/**
 * The attached blocks that `heads` reach through attached blocks, breadth-first, each once.
 * A block is followed only once it verifies against its CID (its links could be anything
 * else) and is within the block limit. Every block a head added since the announcement's
 * `prev` is reached this way: a path from the head to it through a block the peer held
 * before would make it one the peer held before too.
 */
function reachable(d: RoomHpcpDeps, attached: Attached[], heads: readonly CID[]): Attached[] {
  const byCid = new Map<string, Attached>();
  for (const a of attached) byCid.set(a.cid.toString(), a);
  const order = heads.map((h) => h.toString());
  const seen = new Set(order);
  const out: Attached[] = [];
  for (let i = 0; i < order.length; i++) {
    const block = byCid.get(order[i] as string);
    if (!block || !usable(d, block)) continue;
    out.push(block);
    for (const link of links(block)) {
      const key = link.toString();
      if (seen.has(key)) continue;
      seen.add(key);
      order.push(key);
    }
  }
  return out;
}

function usable(d: RoomHpcpDeps, { cid, bytes }: Attached): boolean {
  if (bytes.byteLength > MAX_BLOCK_BYTES) {
    d.log.warn('announced block over the size limit dropped', { cid: cid.toString() });
    return false;
  }
  try {
    verifyBlock(cid, bytes);
    return true;
  } catch (err) {
    d.log.warn('announced block rejected', { cid: cid.toString(), err });
    return false;
  }
}

/** The CIDs a GOHO block links to (GOHO blocks are dag-json; others link to nothing here). */
function links({ cid, bytes }: Attached): CID[] {
  if (cid.code !== DAG_JSON) return [];
  try {
    return [...createUnsafe({ bytes, cid, codec: dagJson }).links()].map(([, link]) => link);
  } catch {
    return []; // Not dag-json after all: the merge reports the bad block.
  }
}
