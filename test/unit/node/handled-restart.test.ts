/**
 * A command is handled once its answer is out (or, for a `!run`, once its task is in the
 * book). A node that saves its book while the reply is still on its way (held by the
 * homeserver's rate limit, say) and then stops must find the command waiting after its
 * restart: saved as handled, it would never be answered, by this node or any other.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { NodeContext } from '../../../src/node/context.ts';
import { Dispatch } from '../../../src/node/dispatch.ts';
import { MeshRoom } from '../../../src/node/mesh-room.ts';
import { fakeRoom, ROOM } from '../../support/fake-room.ts';

const ME = '@me:hs';
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

it('a command whose reply was still being sent when the node stopped is answered after its restart', async () => {
  const f = await fakeRoom({ self: ME, members: ['@alice:hs'] });
  const dataDir = await mkdtemp(join(tmpdir(), 'meshbot-handled-'));
  dirs.push(dataDir);
  const stop = new AbortController();
  const ctx = {
    ...f.ctx,
    config: { ...f.ctx.config, dataDir },
    signal: stop.signal,
  } as NodeContext;
  const room = new MeshRoom(ctx, ROOM);
  room.election.clock.observe({ holder: ME, term: 1, leaseMs: 30_000, renewal: 1 }, Date.now());
  // The homeserver holds the reply back until the node stops.
  ctx.client.send = (async (
    _room: unknown,
    _type: unknown,
    _content: unknown,
    signal?: AbortSignal,
  ) =>
    new Promise((_resolve, reject) => {
      if (signal?.aborted) reject(signal.reason);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    })) as typeof ctx.client.send;
  const req = { id: '$help', sender: '@alice:hs', body: '!help', seenAt: Date.now() };
  room.book.requests.seen(req);
  const handling = new Dispatch(ctx).handle(room, req);
  await new Promise((r) => setTimeout(r, 20));
  // Another node cannot take it meanwhile, nor can this one take it twice.
  expect(room.book.requests.pending()).toEqual([]);
  // A sync comes in: the book goes to disk. Then the node stops.
  await room.flush();
  stop.abort(new Error('stopping'));
  await handling;
  await room.flush();

  const after = new MeshRoom(ctx, ROOM);
  await after.load();
  expect(after.book.requests.pending().map((r) => r.id)).toEqual(['$help']);
});
