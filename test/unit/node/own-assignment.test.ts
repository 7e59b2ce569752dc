/**
 * The coordinator's assignment to itself counts only as the room's order has it, as every
 * other node's does. Two nodes can claim the same term (Matrix state has no compare-and-swap;
 * a claim that lands later than the settle time finds the other claimant acting already):
 * the later claim wins, and an assignment the loser sent after it is dropped by every node.
 * The loser must not run that task and answer its `!run`: the winner handles the request too.
 *
 * A whole MeshNode over a fake room that gives back everything the node sends, in order;
 * the test can slip another node's event in before one of them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Runner } from '../../../src/engines/runner.ts';
import type { EnginePackage, RunRequest } from '../../../src/engines/types.ts';
import { EVENT } from '../../../src/protocol/events.ts';
import { MESH_EVENT, REPLY_TAG } from '../../../src/protocol/manager.ts';
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
  const { node, f, deliver } = await fakeNode({
    self: ME,
    members: ['@alice:hs'],
    nodes: { [RIVAL]: { owner: '@owner:hs' } },
  });
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

  // The room: each event the node sends lands after what `before` slips in ahead of it, and
  // comes back to the node in that order.
  let before: (type: string) => Landed[] = () => [];
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
      for (const e of before(type)) land(e);
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
  const slipIn = (fn: (type: string) => Landed[]) => {
    before = fn;
  };
  return { node, f, ask, replies, runs, settled, slipIn };
}

describe("the coordinator's assignment to itself", () => {
  it('runs once it is back from the room, and its !run gets one answer', async () => {
    const { ask, replies, runs, settled, f } = await setUp();
    ask();
    await settled();
    expect(f.sent.some((s) => s.type === EVENT.assign)).toBe(true);
    expect(runs).toEqual(['hello']);
    expect(replies()).toHaveLength(1);
  });

  it('is not run when the room put another claim of its term before it', async () => {
    const { ask, node, replies, runs, settled, f, slipIn } = await setUp();
    // The rival did not see this node's claim in time and claimed term 1 too; its claim
    // reached the room after this node's had settled, but before this node's assignment.
    let slipped = false;
    slipIn((type) => {
      if (type !== EVENT.assign || slipped) return [];
      slipped = true;
      const lease = { holder: RIVAL, term: 1, leaseMs: LEASE_MS, renewal: 1 };
      return [{ sender: RIVAL, type: MESH_EVENT.lease, content: lease, key: '' }];
    });
    ask();
    await settled();
    expect(slipped).toBe(true);
    expect(f.logs.some((l) => l.includes('assignment from an old term rejected'))).toBe(true);
    expect(node.coordinatorOf(ROOM)).toMatchObject({ holder: RIVAL, term: 1, acting: false });
    // The rival, the holder of term 1 in every node's eyes, handles the request: not this node.
    expect(replies()).toEqual([]);
    expect(runs).toEqual([]);
  });
});
