/**
 * A book that could not be written (a full disk, a folder briefly unwritable) is written at
 * the next flush: the sync batch whose flush failed comes again, but what the coordinator
 * changed beside the sync (a request it took, a task it accepted) is in no event of it, and
 * would be on disk only after some later change, or never if the node stopped first.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import type { NodeContext } from '../../../src/node/context.ts';
import { MeshRoom } from '../../../src/node/mesh-room.ts';
import { fakeRoom, ROOM } from '../../support/fake-room.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

it('writes at the next flush a book whose last write failed', async () => {
  const f = await fakeRoom({ self: '@me:hs', members: ['@alice:hs'] });
  const dataDir = await mkdtemp(join(tmpdir(), 'meshbot-book-retry-'));
  dirs.push(dataDir);
  const ctx = { ...f.ctx, config: { ...f.ctx.config, dataDir } } as NodeContext;
  const room = new MeshRoom(ctx, ROOM);
  room.book.requests.seen({ id: '$run', sender: '@alice:hs', body: '!run echo x', seenAt: 0 });
  room.changed();
  // The book's folder cannot be made: the write fails.
  await writeFile(join(dataDir, 'mesh'), 'in the way');
  await expect(room.flush()).rejects.toThrow();
  // The disk is fine again; the next sync's flush comes with nothing new in this room.
  await rm(join(dataDir, 'mesh'));
  await room.flush();

  const after = new MeshRoom(ctx, ROOM);
  await after.load();
  expect(after.book.requests.pending().map((r) => r.id)).toEqual(['$run']);
});
