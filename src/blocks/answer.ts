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
 * Answers a want with the blocks we hold below the wanted CIDs: the wanted blocks first, then
 * breadth-first below each, each block once however often the want names it, up to
 * MAX_BLOCKS blocks and what the asker downloads (`maxCarBytes`, the same setting on its
 * side). A DAG past that (a big GOHO trie, a big file) is answered in part, and the asker's
 * store asks again for each block it still lacks when it reads it; answering nothing left
 * the asker waiting for its whole fetch budget. Silent when we hold none of the wanted.
 */
export async function answerWant(
  o: RoomExchangeOptions,
  roomId: RoomId,
  want: WantEvent,
): Promise<void> {
  const found = await gather(
    o,
    want.cids.map((s) => CID.parse(s)),
  );
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

/** The blocks of an answer, in the order they go (see answerWant). */
async function gather(o: RoomExchangeOptions, wanted: CID[]): Promise<Found[]> {
  const found: Found[] = [];
  const seen = new Set<string>();
  let carBytes = CAR_HEADER_BYTES;
  /** Takes a block unless taken already or not held here; false once the answer is full. */
  const take = async (cid: CID): Promise<boolean> => {
    const key = cid.toString();
    if (seen.has(key)) return true;
    seen.add(key);
    const bytes = await o.store.getBlock(cid, { offline: true }).catch((err: unknown) => {
      if ((err as { code?: unknown } | null)?.code === 'NOT_FOUND') return undefined;
      throw err;
    });
    if (!bytes) return true;
    carBytes += carEntryBytes(cid, bytes);
    if (carBytes > o.maxCarBytes) return false;
    found.push({ cid, bytes });
    return found.length < MAX_BLOCKS;
  };
  const held: CID[] = [];
  for (const cid of wanted) if (await o.store.hasBlock(cid)) held.push(cid);
  for (const cid of held) if (!(await take(cid))) return found;
  for (const root of held) {
    // No more than the answer may still take (plus the root, taken already): a want naming
    // 50 big DAGs costs one answer's reads, not 50.
    const maxBlocks = MAX_BLOCKS - found.length + 1;
    const below = await o.store.collect(root, { offline: true, maxBlocks, partial: true });
    for (const cid of below) if (!(await take(cid))) return found;
  }
  return found;
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
