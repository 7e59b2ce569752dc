import { CarWriter } from '@ipld/car';
import { CID } from 'multiformats/cid';
import type { RoomId } from '../ids.ts';
import { EVENT, type InlineBlock, type WantEvent } from '../protocol/events.ts';
import { encodeInline, inlineSize } from './codec.ts';
import type { RoomExchangeOptions } from './room-exchange.ts';

/** Inline answers stay well under the 65,536-byte event limit. */
const INLINE_BUDGET = 40_000;
const MAX_BLOCKS = 20_000;

/** Answers a want with every block we hold below the wanted CIDs. Silent when we hold none. */
export async function answerWant(
  o: RoomExchangeOptions,
  roomId: RoomId,
  want: WantEvent,
): Promise<void> {
  const found: { cid: CID; bytes: Uint8Array }[] = [];
  for (const s of want.cids) {
    const root = CID.parse(s);
    if (!(await o.store.hasBlock(root))) continue;
    for (const cid of await o.store.collect(root, { offline: true, maxBlocks: MAX_BLOCKS })) {
      found.push({ cid, bytes: await o.store.getBlock(cid, { offline: true }) });
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

async function toCar(blocks: { cid: CID; bytes: Uint8Array }[]): Promise<Uint8Array> {
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
