/**
 * HPCP between nodes on an in-memory room: batched announcements, one announcement per
 * merged head, quiet once converged, and a late joiner answered once.
 */
import * as dagJson from '@ipld/dag-json';
import { describe, expect, it } from 'vitest';
import { RoomHpcp } from '../../../src/hpcp/room-hpcp.ts';
import { DEFAULT_HPCP } from '../../../src/hpcp/types.ts';
import type { EventId, RoomId, UserId } from '../../../src/ids.ts';
import { createGoho, type Goho } from '../../../src/lattice/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { MeshClient, RoomEvent } from '../../../src/matrix/types.ts';
import { Serial } from '../../../src/node/serial.ts';
import { HPCP_EVENT } from '../../../src/protocol/hpcp.ts';
import { cidOf, DAG_JSON } from '../../../src/store/cid.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';

const ROOM = '!room:h' as RoomId;
const OPTIONS = {
  ...DEFAULT_HPCP,
  announceDelayMs: 40,
  mergeDelayMs: 80,
  answerDelayMs: 60,
  answerIntervalMs: 100,
};

interface Node {
  id: UserId;
  goho: Goho;
  hpcp: RoomHpcp;
  lock: Serial;
}

/** A room that delivers every event to every node (the sender too), a few ms later. */
class Room {
  readonly nodes: Node[] = [];
  readonly members = new Set<UserId>();
  readonly log: RoomEvent[] = [];
  /** Heads events go without their inline blocks: peers must fetch them. */
  noInline = false;
  /** Fetches that fail (no member answers) before they work again. */
  refuseFetches = 0;
  /** Fetches that failed so. */
  refused = 0;
  /** Events every node has taken in (its onEvent resolved). */
  delivered = 0;
  #n = 0;

  readonly options: typeof OPTIONS;

  constructor(options = OPTIONS) {
    this.options = options;
  }

  send(sender: UserId, type: string, content: object): EventId {
    const copy = JSON.parse(JSON.stringify(content));
    if (this.noInline && type === HPCP_EVENT.heads) copy.blocks = [];
    const event = {
      type,
      sender,
      content: copy,
      event_id: `$${this.#n++}` as EventId,
      origin_server_ts: Date.now(),
    } as RoomEvent;
    this.log.push(event);
    setTimeout(async () => {
      await Promise.all(this.nodes.map((n) => n.hpcp.onEvent(event)));
      this.delivered++;
    }, 5);
    return event.event_id;
  }

  async join(id: string): Promise<Node> {
    const self = id as UserId;
    this.members.add(self);
    const store = createMemoryStore();
    // Stands in for the room's block exchange: any member's store answers.
    store.addFetcher({
      name: 'room',
      fetch: async (cid) => {
        if (this.refuseFetches > 0) {
          this.refuseFetches--;
          this.refused++;
          throw new Error('nobody answered');
        }
        for (const n of this.nodes) {
          const held = (n as Node & { store: typeof store }).store.held.get(cid.toString());
          if (held) return held.bytes;
        }
        throw new Error('nobody has it');
      },
    });
    const goho = await createGoho(store, { name: 'shared' });
    const lock = new Serial(silentLogger, 'lock');
    const client = {
      userId: self,
      send: async (_room: RoomId, type: string, content: object) => this.send(self, type, content),
    } as unknown as MeshClient;
    const hpcp = new RoomHpcp(
      {
        client,
        store,
        log: silentLogger,
        self,
        gohos: new Map([[goho.origin().toString(), goho]]),
        exclusive: (job) => lock.exclusive(job),
        merged: async () => {},
        isNode: (u) => this.members.has(u),
        nodes: () => [...this.members],
        options: this.options,
      },
      ROOM,
    );
    const node = Object.assign({ id: self, goho, hpcp, lock }, { store });
    this.nodes.push(node);
    return node;
  }

  heads(): number {
    return this.log.filter((e) => e.type === HPCP_EVENT.heads).length;
  }
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `n` heads events were sent and taken in by every node, and `node`'s merges of
 * them are over. */
async function takenIn(room: Room, node: Node, n: number): Promise<void> {
  await expect.poll(() => room.heads(), { timeout: 5_000 }).toBe(n);
  await expect.poll(() => room.delivered, { timeout: 5_000 }).toBe(n);
  await node.hpcp.settled();
}

async function append(node: Node, value: string): Promise<void> {
  await node.lock.exclusive(async () => {
    const before = node.goho.head();
    await node.goho.append({ path: 'p', action: 'append', value, author: node.id });
    node.hpcp.changed(node.goho, before);
  });
}

async function converged(room: Room, size: number): Promise<void> {
  await expect
    .poll(
      () =>
        new Set(room.nodes.map((n) => n.goho.head().toString())).size === 1 &&
        room.nodes[0]?.goho.size() === size,
      { timeout: 5_000, interval: 20 },
    )
    .toBe(true);
}

describe('HPCP in a room', () => {
  it('batches appends, announces a merged head once, and then stays quiet', async () => {
    // A window that five appends fit in however slow the machine: what is checked is that
    // the appends inside one window make one announcement.
    const room = new Room({ ...OPTIONS, announceDelayMs: 1_000 });
    const nodes = [await room.join('@a:h'), await room.join('@b:h'), await room.join('@c:h')];
    await Promise.all(
      nodes.map(async (n) => {
        for (let i = 0; i < 5; i++) await append(n, `${n.id}-${i}`);
      }),
    );
    await converged(room, 15);
    await wait(600);
    const changes = room.log.filter((e) => (e.content as { reason?: string }).reason === 'change');
    const merges = room.log.filter((e) => (e.content as { reason?: string }).reason === 'merge');
    expect(changes).toHaveLength(3); // five appends each, inside one window
    expect(merges.length).toBeLessThanOrEqual(1);
    const quiet = room.heads();
    await wait(500);
    expect(room.heads()).toBe(quiet);
  });

  it('answers a late joiner once, with what it lacks', async () => {
    const room = new Room();
    const nodes = [await room.join('@a:h'), await room.join('@b:h'), await room.join('@c:h')];
    for (const [i, n] of nodes.entries()) await append(n, `v${i}`);
    await converged(room, 3);
    await wait(500);
    const before = room.heads();
    const late = await room.join('@late:h');
    await late.hpcp.requestHeads();
    await converged(room, 3);
    await expect.poll(() => room.heads() - before, { timeout: 5_000 }).toBeGreaterThan(0);
    // And only once: the other nodes see the answer and keep quiet.
    await wait(500);
    expect(room.heads() - before).toBe(1);
    const answer = room.log.at(-1)?.content as { reason: string; heads: { prev?: string }[] };
    expect(answer.reason).toBe('answer');
  });

  it('ignores heads from a sender that is not a node', async () => {
    const room = new Room();
    const a = await room.join('@a:h');
    const b = await room.join('@b:h');
    room.members.delete(b.id);
    await append(b, 'from outside');
    // b's announcement reached a, and a is done with it.
    await takenIn(room, a, 1);
    expect(a.goho.size()).toBe(0);
    expect(b.goho.size()).toBe(1);
  });

  it('drops, with a log line, an announcement whose head only looks like a CID', async () => {
    const room = new Room();
    const a = await room.join('@a:h');
    const b = await room.join('@b:h');
    await append(b, 'real');
    const origin = a.goho.origin().toString();
    const heads = [
      { origin, head: 'zzzzzzzzzzzz', size: 1 },
      { origin, head: b.goho.head().toString(), size: 1 },
    ];
    const event = {
      type: HPCP_EVENT.heads,
      sender: b.id,
      event_id: '$forged' as EventId,
      origin_server_ts: Date.now(),
      content: { heads },
    } as RoomEvent;
    await expect(a.hpcp.onEvent(event)).resolves.toBe(true);
    expect(a.hpcp.seen.announcedBy(origin).get(b.id)).not.toBe('zzzzzzzzzzzz');
    // The node goes on: b's honest announcement still reaches it.
    await converged(room, 1);
  });

  it('tries a merge again when its blocks could not be had at first, in a quiet room', async () => {
    const room = new Room();
    const a = await room.join('@a:h');
    const b = await room.join('@b:h');
    room.noInline = true;
    room.refuseFetches = Number.POSITIVE_INFINITY;
    await append(b, 'fetched later');
    await takenIn(room, a, 1);
    // a's first merge has failed: it could fetch nothing.
    expect(room.refused).toBeGreaterThan(0);
    expect(a.goho.size()).toBe(0);
    room.refuseFetches = 0;
    await converged(room, 1);
  });

  it("tries the sender's newest head again when an older one of it failed first", async () => {
    const room = new Room();
    const a = await room.join('@a:h');
    const b = await room.join('@b:h');
    room.noInline = true;
    room.refuseFetches = Number.POSITIVE_INFINITY;
    await append(b, 'one');
    await takenIn(room, a, 1);
    expect(room.refused).toBeGreaterThan(0);
    const refused = room.refused;
    await append(b, 'two');
    await takenIn(room, a, 2);
    // a's merge of b's newer head has failed too.
    expect(room.refused).toBeGreaterThan(refused);
    expect(a.goho.size()).toBe(0);
    room.refuseFetches = 0;
    await converged(room, 2);
  });

  it('announces a merged head counting from a head it merged, not from one whose trie never came', async () => {
    const room = new Room();
    const a = await room.join('@a:h');
    room.members.add('@b:h' as UserId);
    room.members.add('@c:h' as UserId);
    // b: a node whose blocks a can fetch, and which takes no part otherwise.
    const bStore = createMemoryStore();
    const bGoho = await createGoho(bStore, { name: 'shared' });
    await bGoho.append({ path: 'p', action: 'append', value: 'b1', author: '@b:h' });
    const quiet = { onEvent: async () => true };
    room.nodes.push({ id: '@b:h', goho: bGoho, hpcp: quiet, store: bStore } as unknown as Node);
    await append(a, 'a1');
    await wait(150); // a's change is announced
    const origin = a.goho.origin().toString();
    const heads = (head: string) => [{ origin, head, size: 1 }];
    const announce = (sender: string, content: object) =>
      a.hpcp.onEvent({
        type: HPCP_EVENT.heads,
        sender: sender as UserId,
        event_id: `$${sender}` as EventId,
        origin_server_ts: Date.now(),
        content,
      } as RoomEvent);
    await announce('@b:h', { heads: heads(bGoho.head().toString()) });
    await a.hpcp.settled();
    expect(a.goho.size()).toBe(2);
    // Before a announces the union: c announces a head whose root comes inline and whose trie
    // nobody serves. a cannot merge it, nor count an announcement's blocks from it.
    const tree = cidOf(DAG_JSON, new TextEncoder().encode('"a trie node nobody has"'));
    const root = { type: 'goho', version: 2, origin: a.goho.origin(), size: 1, clock: 1, tree };
    const bytes = dagJson.encode(root);
    const bogus = cidOf(DAG_JSON, bytes);
    await announce('@c:h', {
      heads: heads(bogus.toString()),
      blocks: [{ cid: bogus.toString(), data: Buffer.from(bytes).toString('base64') }],
    });
    await expect
      .poll(() => room.log.filter((e) => (e.content as { reason?: string }).reason === 'merge'), {
        timeout: 2_000,
      })
      .toHaveLength(1);
    const merge = room.log.find((e) => (e.content as { reason?: string }).reason === 'merge');
    const content = merge?.content as { heads: { head: string; prev?: string }[] } | undefined;
    const entry = content?.heads[0];
    expect(entry?.head).toBe(a.goho.head().toString());
    expect(entry?.prev).toBe(bGoho.head().toString());
  });
});
