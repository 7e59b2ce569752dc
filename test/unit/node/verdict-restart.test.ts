/**
 * The coordinator takes its own verdict at once, and its trust records go to disk with the
 * book; the verdict's event comes back to it through the room later. A node that restarts in
 * between reads that event after its restart: it must not count the verdict a second time
 * (an agreeing result twice toward trust, a rejected one twice against).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { applyBookEvent } from '../../../src/node/book-events.ts';
import type { NodeContext } from '../../../src/node/context.ts';
import { MeshRoom } from '../../../src/node/mesh-room.ts';
import { Verification } from '../../../src/node/verification.ts';
import { MESH_EVENT } from '../../../src/protocol/manager.ts';
import { fakeRoom, ROOM, runningTask } from '../../support/fake-room.ts';

const ME = '@me:hs';
const W1 = '@w1:hs';
const W2 = '@w2:hs';
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

it('a verdict the coordinator applied before its restart is not counted again after it', async () => {
  const f = await fakeRoom({
    self: ME,
    nodes: { [W1]: { owner: '@one:hs' }, [W2]: { owner: '@two:hs' } },
  });
  const dataDir = await mkdtemp(join(tmpdir(), 'meshbot-verdict-'));
  dirs.push(dataDir);
  const ctx = { ...f.ctx, config: { ...f.ctx.config, dataDir } } as NodeContext;
  const room = new MeshRoom(ctx, ROOM);
  room.election.clock.observe({ holder: ME, term: 1, leaseMs: 30_000, renewal: 1 }, Date.now());
  const task = await runningTask({ ...f, room });
  const agreed = (await f.ctx.store.addBytes(new TextEncoder().encode('42'))).toString();
  const verdict = { task, agreeing: [W1], dissenting: [W2], result: agreed, of: 2 };

  // The coordinator announces its verdict, and applies it at once.
  new Verification(ctx).announce(room, 1, [verdict]);
  expect(room.trust.get(W1).agreed).toBe(1);
  expect(room.trust.get(W2).disagreed).toBe(1);
  // A sync comes in before the verdict's own event does: the book goes to disk.
  await room.flush();

  // The node restarts; the room then gives it the verdict's event.
  const after = new MeshRoom(ctx, ROOM);
  await after.load();
  expect(after.trust.get(W1).agreed).toBe(1);
  const event = f.event(ME, MESH_EVENT.verdict, { term: 1, verdicts: [verdict] });
  await applyBookEvent(ctx, after, event);

  expect(after.trust.get(W1)).toMatchObject({ agreed: 1, streak: 1, checked: 1 });
  expect(after.trust.get(W2)).toMatchObject({ disagreed: 1, checked: 1 });
});
