/**
 * A whole MeshNode (fake-node.ts) in a room that gives back everything the node sends, in
 * order, as a homeserver's sync would; a test can slip other nodes' events in before one of
 * them. The node runs an `echo` engine, and claims the lease (term 1) before this returns.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, expect } from 'vitest';
import type { Runner } from '../../src/engines/runner.ts';
import type { EnginePackage, RunRequest } from '../../src/engines/types.ts';
import { REPLY_TAG } from '../../src/protocol/manager.ts';
import { fakeNode } from './fake-node.ts';
import { ROOM } from './fake-room.ts';

export const ME = '@a-me:hs';
export const RIVAL = '@b-rival:hs';
export const LEASE_MS = 3_000;

/** An event as it lands in the room. */
export type Landed = {
  sender: string;
  type: string;
  content: Record<string, unknown>;
  key?: string;
};

const stops: AbortController[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s.abort();
});

export async function echoRoom() {
  const { node, f, deliver, leave } = await fakeNode({
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

  // Each event the node sends lands after what `before` slips in ahead of it, and comes back
  // to the node in that order.
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
  /** Resolves once what landed was taken in, and the node is idle. */
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

  /** Alice (or `sender`) posts a message with this content. */
  const post = (content: Record<string, unknown>, sender = '@alice:hs') => {
    land({ sender, type: 'm.room.message', content });
  };
  /** Alice posts `body`. */
  const say = (body: string) => post({ msgtype: 'm.text', body });
  /** Alice posts `!run echo <the input "hello">`. */
  const ask = () => say(`!run echo ${input}`);
  const replies = () =>
    f.sent.filter((s) => s.type === 'm.room.message' && s.content[REPLY_TAG] !== undefined);
  const slipIn = (fn: (type: string) => Landed[]) => {
    before = fn;
  };
  return { node, f, ask, say, post, replies, runs, settled, slipIn, leave };
}
