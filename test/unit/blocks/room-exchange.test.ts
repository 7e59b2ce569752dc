import { getEventListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { RoomBlockExchange } from '../../../src/blocks/room-exchange.ts';
import type { EventId, RoomId, UserId } from '../../../src/ids.ts';
import { createLogger } from '../../../src/log/logger.ts';
import type { MeshClient, RoomEvent } from '../../../src/matrix/types.ts';
import { EVENT } from '../../../src/protocol/events.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';

const ROOM = '!mesh:hs' as RoomId;
const NODES = new Set(['@node1:hs', '@node2:hs', '@node3:hs', '@node4:hs', '@node5:hs']);

/** This node's exchange; its sends wait until `release()`, as on a rate-limited account. */
async function exchange() {
  const store = createMemoryStore();
  const cid = (await store.addBytes(new TextEncoder().encode('input'))).toString();
  const sent: Record<string, unknown>[] = [];
  const logs: string[] = [];
  let release = () => {};
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const client = {
    userId: '@me:hs' as UserId,
    send: async (_room: RoomId, _type: string, content: Record<string, unknown>) => {
      await gate;
      sent.push(content);
      return '$x' as EventId;
    },
    // A media repository that never answers (a remote server that is down).
    download: () => new Promise<Uint8Array>(() => {}),
  } as unknown as MeshClient;
  const ex = new RoomBlockExchange({
    client,
    store,
    log: createLogger({ level: 'debug', write: (l) => logs.push(l) }),
    rooms: () => [ROOM],
    admitted: (_room, user) => NODES.has(user),
    servesWants: (_room, user) => NODES.has(user),
    maxCarBytes: 1_000_000,
  });
  let seq = 0;
  const want = (sender: string, nonce = `n${seq}`): RoomEvent => ({
    type: EVENT.want,
    event_id: `$w${++seq}` as EventId,
    sender: sender as UserId,
    origin_server_ts: 0,
    content: { cids: [cid], nonce },
  });
  return { ex, sent, logs, want, store, release: () => release() };
}

/** Whether `p` settles within `ms`. */
async function settles(p: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([p.then(() => true), sleep(ms).then(() => false)]);
}

/** A raw block for a fetch to want: its CID, and its bytes as an answer carries them. */
async function rawBlock(text: string) {
  const { CID } = await import('multiformats/cid');
  const { sha256 } = await import('multiformats/hashes/sha2');
  const bytes = new TextEncoder().encode(text);
  const wanted = CID.createV1(0x55, await sha256.digest(bytes));
  return { wanted, data: Buffer.from(bytes).toString('base64') };
}

/** An answer (`org.meshbot.blocks`) from `sender` to the want of `nonce`. */
function answer(sender: string, nonce: string, content: Record<string, unknown>): RoomEvent {
  return {
    type: EVENT.blocks,
    event_id: `$b${sender}` as EventId,
    sender: sender as UserId,
    origin_server_ts: 0,
    content: { nonce, ...content },
  };
}

describe('answering wants for blocks in the room', () => {
  it('answers a node, and not a member who runs no node', async () => {
    const f = await exchange();
    f.release();
    await f.ex.onEvent(ROOM, f.want('@friend:hs'));
    await f.ex.onEvent(ROOM, f.want('@node1:hs', 'from-node'));
    await f.ex.idle();
    expect(f.sent.map((c) => c.nonce)).toEqual(['from-node']);
  });

  it('does not hold up the timeline while an answer is being sent', async () => {
    const f = await exchange();
    expect(await settles(f.ex.onEvent(ROOM, f.want('@node1:hs')), 500)).toBe(true);
    f.release();
    await f.ex.idle();
    expect(f.sent).toHaveLength(1);
  });

  it('a flood of wants: a few answers at once, one per sender and CIDs, the newest waits', async () => {
    const f = await exchange();
    for (let i = 0; i < 50; i++) await f.ex.onEvent(ROOM, f.want('@node1:hs', `flood${i}`));
    for (const n of ['@node2:hs', '@node3:hs', '@node4:hs', '@node5:hs']) {
      await f.ex.onEvent(ROOM, f.want(n, n));
    }
    f.release();
    await f.ex.idle();
    // node1's first want, node2..node4 up to the bound of 4; then, in order, node1's newest
    // want (its fetch may have given up on the first) and node5, which waited its turn.
    expect(f.sent.map((c) => c.nonce)).toEqual([
      'flood0',
      '@node2:hs',
      '@node3:hs',
      '@node4:hs',
      'flood49',
      '@node5:hs',
    ]);
    // Once answered, the same want is served again.
    await f.ex.onEvent(ROOM, f.want('@node1:hs', 'again'));
    await f.ex.idle();
    expect(f.sent.at(-1)?.nonce).toBe('again');
  });

  it("takes an answer to its own want only from a node, and never waits on a CAR's download", async () => {
    const f = await exchange();
    f.release();
    const { wanted, data } = await rawBlock('wanted');
    const signal = AbortSignal.timeout(5_000);
    const fetching = f.ex.fetch(wanted, { signal });
    await sleep(50);
    const nonce = f.sent.at(-1)?.nonce as string;
    const blocks = [{ cid: wanted.toString(), data }];
    // A member who runs no node: ignored, whatever it holds.
    await f.ex.onEvent(ROOM, answer('@friend:hs', nonce, { blocks }));
    // A node whose CAR cannot be downloaded: the timeline goes on at once.
    const car = answer('@node1:hs', nonce, { car: 'mxc://down.example/car' });
    expect(await settles(f.ex.onEvent(ROOM, car), 500)).toBe(true);
    // A node's inline answer is taken.
    await f.ex.onEvent(ROOM, answer('@node2:hs', nonce, { blocks }));
    expect(new TextDecoder().decode(await fetching)).toBe('wanted');
    expect(f.logs.filter((l) => l.includes('not admitted'))).toHaveLength(1);
    // The signal may be one that outlives the fetch: nothing of the fetch stays on it.
    expect(getEventListeners(signal, 'abort')).toHaveLength(0);
  });

  it('a fetch that gives up leaves the answer to another fetch of the same block', async () => {
    const f = await exchange();
    f.release();
    const { wanted, data } = await rawBlock('wanted twice');
    // e.g. a merge and a pin, or two tasks on one input, each with its own deadline.
    const first = new AbortController();
    const a = f.ex.fetch(wanted, { signal: first.signal });
    const b = f.ex.fetch(wanted, { signal: AbortSignal.timeout(5_000) });
    await sleep(20);
    const nonce = f.sent.at(-1)?.nonce as string;
    first.abort(new Error('first caller gave up'));
    await expect(a).rejects.toThrow('first caller gave up');
    await f.ex.onEvent(
      ROOM,
      answer('@node2:hs', nonce, { blocks: [{ cid: wanted.toString(), data }] }),
    );
    expect(new TextDecoder().decode(await b)).toBe('wanted twice');
  });

  it('an answer with a block whose CID does not parse keeps its other blocks', async () => {
    const f = await exchange();
    f.release();
    const { wanted, data } = await rawBlock('wanted');
    const fetching = f.ex.fetch(wanted, { signal: AbortSignal.timeout(5_000) });
    await sleep(20);
    const nonce = f.sent.at(-1)?.nonce as string;
    // The schema lets through any alphanumeric string: the CID is parsed when taken.
    const blocks = [
      { cid: 'bnotacidatall', data },
      { cid: wanted.toString(), data },
    ];
    await f.ex.onEvent(ROOM, answer('@node2:hs', nonce, { blocks }));
    expect(new TextDecoder().decode(await fetching)).toBe('wanted');
    expect(f.logs.filter((l) => l.includes('rejected a block'))).toHaveLength(1);
  });
});
