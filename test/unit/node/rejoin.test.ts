/**
 * A coordinator that was kicked from its mesh room and invited back: it has a new MeshRoom
 * (a new election) for the room, and its outboxes must read that one, or every assignment it
 * makes there is dropped as stale and no task starts. A whole MeshNode over a fake room that
 * gives back everything the node sends, in order (as in own-assignment.test.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Runner } from '../../../src/engines/runner.ts';
import type { EnginePackage, RunRequest } from '../../../src/engines/types.ts';
import { REPLY_TAG } from '../../../src/protocol/manager.ts';
import { fakeNode } from '../../support/fake-node.ts';
import { ROOM } from '../../support/fake-room.ts';

const ME = '@a-me:hs';
const RIVAL = '@b-rival:hs';
const LEASE_MS = 3_000;

const stops: AbortController[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s.abort();
});

type Landed = { sender: string; type: string; content: Record<string, unknown>; key?: string };

async function setUp() {
  const n = await fakeNode({
    self: ME,
    members: ['@alice:hs'],
    nodes: { [RIVAL]: { owner: '@owner:hs' } },
  });
  const { node, f, deliver } = n;
  const stop = new AbortController();
  stops.push(stop);
  (f.ctx as { signal: AbortSignal }).signal = stop.signal;
  f.ctx.config.mesh.leaseMs = LEASE_MS;
  const text = (s: string) => f.ctx.store.addBytes(new TextEncoder().encode(s));
  const engine = (await text('echo engine')).toString();
  const input = (await text('hello')).toString();
  const runs: string[] = [];
  const runtime: Partial<Runner> = {
    offers: () => [{ name: 'echo', cid: engine }],
    kinds: () => [],
    download: async (ref) => ({ manifest: { name: ref.name } }) as unknown as EnginePackage,
    run: async (req: RunRequest) => {
      runs.push(new TextDecoder().decode(req.input));
      return { output: req.input, cpuMs: 1 } as never;
    },
  };
  f.ctx.runtime = runtime as Runner;

  // The room: each event the node sends comes back to the node, in order.
  let order = Promise.resolve();
  const land = (e: Landed) => {
    order = order.then(() => deliver(e.sender, e.type, e.content, e.key));
  };
  const client = f.ctx.client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const method of ['send', 'sendState'] as const) {
    const original = client[method] as (...a: unknown[]) => Promise<unknown>;
    client[method] = async (...args: unknown[]) => {
      const id = await original(...args);
      const [type, a, b] = args.slice(1) as [string, unknown, unknown];
      const [key, content] = method === 'send' ? [undefined, a] : [a as string, b];
      land({ sender: ME, type, content: content as Record<string, unknown>, key });
      return id;
    };
  }
  const settled = async () => {
    for (let i = 0; i < 5; i++) {
      await order;
      await node.idle();
      await sleep(20);
    }
  };
  await node.start();
  // It claims the lease (term 1) and acts once its claim has settled.
  while (!node.coordinatorOf(ROOM).acting) await sleep(50);
  expect(node.coordinatorOf(ROOM)).toMatchObject({ holder: ME, term: 1 });

  const ask = () => {
    land({
      sender: '@alice:hs',
      type: 'm.room.message',
      content: { msgtype: 'm.text', body: `!run echo ${input}` },
    });
  };
  const replies = () =>
    f.sent.filter((s) => s.type === 'm.room.message' && s.content[REPLY_TAG] !== undefined);
  return { node, f, ask, replies, runs, settled, leave: n.leave };
}

describe('a coordinator that left the room and was invited back', () => {
  it('still sends its assignments there (and runs the !run)', async () => {
    const { ask, node, replies, runs, settled, leave } = await setUp();
    ask();
    await settled();
    expect(runs).toEqual(['hello']);
    expect(replies()).toHaveLength(1);

    // Kicked, then invited again: MeshNode#onInvite joins and calls enterRoom.
    await leave();
    await node.enterRoom(ROOM);
    while (!node.coordinatorOf(ROOM).acting) await sleep(50);
    // The old MeshRoom's lease (by its own clock) has run out by now.
    await sleep(LEASE_MS + 500);
    expect(node.coordinatorOf(ROOM).acting).toBe(true);

    ask();
    await settled();
    await sleep(500);
    await settled();
    expect(runs).toEqual(['hello', 'hello']);
    expect(replies()).toHaveLength(2);
  }, 20_000);
});
