import { CarReader } from '@ipld/car';
import type { CID } from 'multiformats/cid';
import { describe, expect, it } from 'vitest';
import type { EventId, RoomId, UserId } from '../../../src/ids.ts';
import type { MeshClient, RoomEvent } from '../../../src/matrix/types.ts';
import { EVENT } from '../../../src/protocol/events.ts';
import { cidOf, RAW } from '../../../src/store/cid.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';
import { BLOCKS_ROOM, blockExchange } from '../../support/block-exchange.ts';

const ROOM = BLOCKS_ROOM;

/** A node answering others' wants; what it sends and uploads is recorded. */
function answering(maxCarBytes = 64 * 1024 * 1024) {
  const store = createMemoryStore();
  const sent: Record<string, unknown>[] = [];
  const uploads: Uint8Array[] = [];
  const client = {
    userId: '@me:hs' as UserId,
    send: async (_room: RoomId, _type: string, content: Record<string, unknown>) => {
      sent.push(content);
      return '$x' as EventId;
    },
    upload: async (bytes: Uint8Array) => {
      uploads.push(bytes);
      return 'mxc://hs/car';
    },
  } as unknown as MeshClient;
  const ex = blockExchange(client, store, maxCarBytes);
  const ask = async (cids: string[]) => {
    const want: RoomEvent = {
      type: EVENT.want,
      event_id: '$w' as EventId,
      sender: '@node1:hs' as UserId,
      origin_server_ts: 0,
      content: { cids, nonce: 'n1' },
    };
    await ex.onEvent(ROOM, want);
    await ex.idle();
  };
  return { store, sent, uploads, ask };
}

/** The CIDs in a CAR, in its order. */
async function carCids(car: Uint8Array): Promise<string[]> {
  const out: string[] = [];
  for await (const b of (await CarReader.fromBytes(car)).blocks()) out.push(b.cid.toString());
  return out;
}

async function rawBlock(store: ReturnType<typeof createMemoryStore>, size: number, seed: number) {
  const bytes = new Uint8Array(size).map((_, i) => (i * seed + seed) & 255);
  const cid = cidOf(RAW, bytes);
  await store.putBlock(cid, bytes);
  return cid.toString();
}

describe('answering a want', () => {
  it('sends each block once, however often the want names it', async () => {
    const f = answering();
    const cid = (await f.store.addBytes(new TextEncoder().encode('input'))).toString();
    await f.ask([cid, cid, cid, cid, cid]);
    const blocks = f.sent[0]?.blocks as { cid: string }[] | undefined;
    expect(blocks?.map((b) => b.cid)).toEqual([cid]);
  });

  it('a want naming one big file 50 times gets one copy of it', async () => {
    const f = answering();
    const bytes = new Uint8Array(1024 * 1024).map((_, i) => (i * 7) & 255);
    const cid = (await f.store.addBytes(bytes)).toString();
    await f.ask(new Array(50).fill(cid));
    expect(f.uploads).toHaveLength(1);
    expect(await carCids(f.uploads[0] as Uint8Array)).toEqual([cid]);
    expect(f.uploads[0]?.byteLength).toBeLessThan(bytes.byteLength + 1024);
  });

  it('a CAR is never larger than the asker downloads (maxCarBytes)', async () => {
    const f = answering(100_000);
    const cids: string[] = [];
    for (let i = 1; i <= 5; i++) cids.push(await rawBlock(f.store, 30_000, i));
    await f.ask(cids);
    expect(f.uploads).toHaveLength(1);
    const car = f.uploads[0] as Uint8Array;
    expect(car.byteLength).toBeLessThanOrEqual(100_000);
    // The wanted blocks in the order asked, as many as fit.
    expect(await carCids(car)).toEqual(cids.slice(0, 3));
  });

  it('a DAG of more than 20,000 blocks is answered in part: the wanted block, then breadth-first', async () => {
    const f = answering();
    // A root over 150 nodes over 150 small raw blocks each: 22,651 blocks, like a big trie.
    const middles: CID[] = [];
    for (let m = 0; m < 150; m++) {
      const leaves: CID[] = [];
      for (let l = 0; l < 150; l++) {
        const bytes = new TextEncoder().encode(`leaf ${m}/${l}`);
        const cid = cidOf(RAW, bytes);
        await f.store.putBlock(cid, bytes);
        leaves.push(cid);
      }
      middles.push(await f.store.putDag({ leaves }));
    }
    const root = await f.store.putDag({ middles });
    await f.ask([root.toString()]);
    expect(f.uploads).toHaveLength(1);
    const cids = await carCids(f.uploads[0] as Uint8Array);
    expect(cids).toHaveLength(20_000);
    expect(cids.slice(0, 151)).toEqual([root, ...middles].map(String));
  });
});
