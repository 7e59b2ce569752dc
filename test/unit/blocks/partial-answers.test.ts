import type { CID } from 'multiformats/cid';
import { describe, expect, it } from 'vitest';
import type { RoomBlockExchange } from '../../../src/blocks/room-exchange.ts';
import type { EventId, RoomId, UserId } from '../../../src/ids.ts';
import type { MeshClient } from '../../../src/matrix/types.ts';
import { EVENT } from '../../../src/protocol/events.ts';
import { cidOf, RAW } from '../../../src/store/cid.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';
import { BLOCKS_ROOM, blockExchange } from '../../support/block-exchange.ts';

const ROOM = BLOCKS_ROOM;
/** Small enough that the DAG below takes several answers. */
const MAX_CAR_BYTES = 50_000;

/**
 * Two nodes in one room: each one's sends reach the other's exchange, and uploads go to one
 * media repository that refuses a download past the downloader's cap, as a homeserver does.
 */
function room(maxCarBytes = MAX_CAR_BYTES) {
  const media = new Map<string, Uint8Array>();
  const wants: unknown[] = [];
  const cars: number[] = [];
  const nodes = new Map<string, RoomBlockExchange>();
  const node = (user: string, peer: string) => {
    const store = createMemoryStore({ fetchBudgetMs: 5_000 });
    let seq = 0;
    const client = {
      userId: user as UserId,
      send: async (_room: RoomId, type: string, content: Record<string, unknown>) => {
        if (type === EVENT.want) wants.push(content);
        const event_id = `$${user}${++seq}` as EventId;
        const ev = { type, event_id, sender: user as UserId, origin_server_ts: 0, content };
        await nodes.get(peer)?.onEvent(ROOM, ev);
        return event_id;
      },
      upload: async (bytes: Uint8Array) => {
        cars.push(bytes.byteLength);
        const mxc = `mxc://hs/${media.size}`;
        media.set(mxc, bytes);
        return mxc;
      },
      download: async (mxc: string, maxBytes: number) => {
        const bytes = media.get(mxc) as Uint8Array;
        if (bytes.byteLength > maxBytes) throw new Error(`${mxc} is over ${maxBytes} bytes`);
        return bytes;
      },
    } as unknown as MeshClient;
    const ex = blockExchange(client, store, maxCarBytes);
    store.addFetcher(ex);
    nodes.set(user, ex);
    return store;
  };
  return { node, wants, cars };
}

describe('fetching a DAG too big for one answer', () => {
  it('a node gets all of it, in parts, asking again for what each answer left out', async () => {
    const r = room();
    const holder = r.node('@holder:hs', '@asker:hs');
    const asker = r.node('@asker:hs', '@holder:hs');
    // 20 nodes over 10 raw blocks of 2,000 bytes each: some 400 kB, eight times the cap.
    const leaves: CID[] = [];
    const middles: CID[] = [];
    for (let m = 0; m < 20; m++) {
      const mine: CID[] = [];
      for (let l = 0; l < 10; l++) {
        const bytes = new Uint8Array(2_000).fill(m * 10 + l);
        const cid = cidOf(RAW, bytes);
        await holder.putBlock(cid, bytes);
        mine.push(cid);
      }
      leaves.push(...mine);
      middles.push(await holder.putDag({ leaves: mine }));
    }
    const root = await holder.putDag({ middles });

    // The asker reads the DAG as a worker reads its input: each missing block is fetched.
    const all = await asker.collect(root);
    for (const cid of all) await asker.getBlock(cid);

    expect(all.map(String).sort()).toEqual([root, ...middles, ...leaves].map(String).sort());
    for (const cid of all) {
      expect(await asker.getBlock(cid, { offline: true })).toEqual(await holder.getBlock(cid));
    }
    // The first answer (a CAR no larger than the asker takes) carried more than the block it
    // was for, but not all: the asker asked again for the rest.
    expect(r.cars.length).toBeGreaterThan(0);
    for (const bytes of r.cars) expect(bytes).toBeLessThanOrEqual(MAX_CAR_BYTES);
    expect(r.wants.length).toBeGreaterThan(1);
    expect(r.wants.length).toBeLessThan(all.length);
  });

  it('a node gets a DAG of more than 20,000 blocks (a big GOHO trie), the most one answer has', async () => {
    const r = room(64 * 1024 * 1024);
    const holder = r.node('@holder:hs', '@asker:hs');
    const asker = r.node('@asker:hs', '@holder:hs');
    // A root over 150 nodes over 150 small raw blocks each: 22,651 blocks.
    const middles: CID[] = [];
    for (let m = 0; m < 150; m++) {
      const leaves: CID[] = [];
      for (let l = 0; l < 150; l++) {
        const bytes = new TextEncoder().encode(`leaf ${m}/${l}`);
        const cid = cidOf(RAW, bytes);
        await holder.putBlock(cid, bytes);
        leaves.push(cid);
      }
      middles.push(await holder.putDag({ leaves }));
    }
    const root = await holder.putDag({ middles });

    const all = await asker.collect(root, { maxBlocks: 30_000 });
    for (const cid of all) await asker.getBlock(cid);

    expect(all).toHaveLength(22_651);
    // One answer of 20,000 blocks, then one want for each of the rest.
    expect(r.wants).toHaveLength(1 + 22_651 - 20_000);
  }, 60_000);
});
