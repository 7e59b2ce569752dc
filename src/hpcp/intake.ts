import { CarReader } from '@ipld/car';
import { CID } from 'multiformats/cid';
import { decodeInline } from '../blocks/codec.ts';
import { MAX_BLOCK_BYTES } from '../lattice/budget.ts';
import type { HeadsEvent } from '../protocol/hpcp.ts';
import type { RoomHpcpDeps } from './types.ts';

/**
 * Stores the blocks an admitted node attached to its announcement: each is verified against
 * its CID by the store, and none may exceed the block limit. A bad block is logged and
 * skipped; the merge then fetches (or fails on) what is still missing.
 */
export async function takeInline(d: RoomHpcpDeps, event: HeadsEvent): Promise<void> {
  for (const b of event.blocks) await keep(d, () => decodeInline(b));
}

/** Downloads and stores the CAR file of an announcement, within the byte limit. */
export async function takeCar(d: RoomHpcpDeps, mxc: string, signal?: AbortSignal): Promise<void> {
  const bytes = await d.client.download(mxc, d.options.maxCarBytes, signal);
  const reader = await CarReader.fromBytes(bytes);
  for await (const b of reader.blocks()) {
    await keep(d, () => ({ cid: CID.asCID(b.cid) as CID, bytes: b.bytes }));
  }
}

async function keep(d: RoomHpcpDeps, decode: () => { cid: CID; bytes: Uint8Array }) {
  try {
    const { cid, bytes } = decode();
    if (bytes.byteLength > MAX_BLOCK_BYTES) {
      d.log.warn('announced block over the size limit dropped', { cid: cid.toString() });
      return;
    }
    await d.store.putBlock(cid, bytes);
  } catch (err) {
    d.log.warn('announced block rejected', { err });
  }
}
