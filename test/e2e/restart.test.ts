/**
 * Bots survive a restart: they come back into the same room from their saved sync position,
 * answer new work, and do not run or answer old commands again.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type DevMesh, startDevMesh } from '../../src/dev/dev-mesh.ts';
import { testMeshOptions } from '../support/mesh.ts';

const REPLY_MS = 45_000;

async function runAndWait(mesh: DevMesh, cid: string): Promise<string> {
  const request = await mesh.person.send(mesh.roomId, `!run wordcount ${cid}`);
  await mesh.person.waitFor(
    (m) => m.threadRoot === request && m.body.includes('"words"'),
    REPLY_MS,
  );
  return request;
}

/** Bot replies in the room's history that answer `request`. */
async function repliesTo(mesh: DevMesh, request: string): Promise<number> {
  const res = await mesh.person.client.createMessagesRequest(mesh.roomId, null, 200, 'b' as never);
  const bots = new Set(mesh.bots.map((b) => b.userId as string));
  return res.chunk.filter(
    (e) =>
      e.type === 'm.room.message' &&
      bots.has(e.sender) &&
      (e.content['m.relates_to'] as { event_id?: string } | undefined)?.event_id === request,
  ).length;
}

describe('restarting the bots', () => {
  it('answers what was asked while they were down, and nothing twice', async () => {
    const opts = await testMeshOptions('restart');
    const dir = opts.dir;
    const input = join(dir, 'in.txt');
    await writeFile(input, 'one two three\n');

    const first = await startDevMesh(opts);
    const cid = await first.add(input);
    const before = await runAndWait(first, cid);
    const room = first.roomId;
    for (const bot of first.bots) await bot.stop();
    const whileDown = await first.person.send(room, `!run wordcount ${cid}`);
    await first.stop();

    const second = await startDevMesh(opts);
    try {
      expect(second.roomId).toBe(room);
      const after = await runAndWait(second, cid);
      await expect.poll(() => repliesTo(second, whileDown), { timeout: REPLY_MS }).toBe(1);
      expect(await repliesTo(second, before)).toBe(1);
      expect(await repliesTo(second, after)).toBe(1);
    } finally {
      await second.stop();
    }
  }, 180_000);
});
