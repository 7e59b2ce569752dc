import { CarWriter } from '@ipld/car';
import { CID } from 'multiformats/cid';
import type { RoomId } from '../ids.ts';
import { EVENT, type InlineBlock, type WantEvent } from '../protocol/events.ts';
import { encodeInline, inlineSize } from './codec.ts';
import type { RoomExchangeOptions } from './room-exchange.ts';

/** Inline answers stay well under the 65,536-byte event limit. */
const INLINE_BUDGET = 40_000;
const MAX_BLOCKS = 20_000;

/**
 * A CAR's header (its version and one root CID) with its length prefix, rounded up: the bytes
 * an answer's CAR has beside its blocks.
 */
const CAR_HEADER_BYTES = 128;

interface Found {
  cid: CID;
  bytes: Uint8Array;
}

/**
 * Answers a want with the blocks we hold below the wanted CIDs, each once however often the
 * want names it or how many of its roots share it, and no more than the asker downloads
 * (`maxCarBytes`, the same setting on its side): a want naming one big file 50 times was
 * answered with 50 copies of it, a CAR the asker refused after we built it in memory. Silent
 * when we hold none.
 */
export async function answerWant(
  o: RoomExchangeOptions,
  roomId: RoomId,
  want: WantEvent,
): Promise<void> {
  const found: Found[] = [];
  const seen = new Set<string>();
  let carBytes = CAR_HEADER_BYTES;
  gather: for (const s of want.cids) {
    const root = CID.parse(s);
    if (!(await o.store.hasBlock(root))) continue;
    for (const cid of await o.store.collect(root, { offline: true, maxBlocks: MAX_BLOCKS })) {
      if (seen.has(cid.toString())) continue;
      seen.add(cid.toString());
      const bytes = await o.store.getBlock(cid, { offline: true });
      carBytes += carEntryBytes(cid, bytes);
      if (carBytes > o.maxCarBytes) break gather;
      found.push({ cid, bytes });
    }
  }
  if (found.length === 0) return;
  const size = found.reduce((n, b) => n + inlineSize(b.bytes), 0);
  if (size <= INLINE_BUDGET) {
    const blocks: InlineBlock[] = found.map((b) => encodeInline(b.cid, b.bytes));
    await o.client.send(roomId, EVENT.blocks, { nonce: want.nonce, blocks });
    return;
  }
  const car = await toCar(found);
  const mxc = await o.client.upload(car, 'application/vnd.ipld.car');
  await o.client.send(roomId, EVENT.blocks, { nonce: want.nonce, car: mxc });
  o.log.debug('answered a want with a CAR', {
    roomId,
    blocks: found.length,
    bytes: car.byteLength,
  });
}

/** What one block adds to a CAR: a varint length, its CID and its bytes. */
function carEntryBytes(cid: CID, bytes: Uint8Array): number {
  const length = cid.bytes.byteLength + bytes.byteLength;
  return varintBytes(length) + length;
}

function varintBytes(n: number): number {
  let size = 1;
  for (let v = n; v >= 0x80; v = Math.floor(v / 0x80)) size++;
  return size;
}

async function toCar(blocks: Found[]): Promise<Uint8Array> {
  const roots = blocks.length > 0 ? [(blocks[0] as { cid: CID }).cid] : [];
  const { writer, out } = CarWriter.create(roots);
  const chunks: Uint8Array[] = [];
  const reading = (async () => {
    for await (const c of out) chunks.push(c);
  })();
  for (const b of blocks) await writer.put(b);
  await writer.close();
  await reading;
  return new Uint8Array(Buffer.concat(chunks));
}
