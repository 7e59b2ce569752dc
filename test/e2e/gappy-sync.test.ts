/**
 * A `!run` posted while the bots were down, followed by more chatter than one sync returns:
 * the bots' first sync after the restart is gappy (limited), and they back-fill it from the
 * room's history, so the request is still answered — once.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startDevMesh } from '../../src/dev/dev-mesh.ts';
import { testMeshOptions } from '../support/mesh.ts';

const CHATTER = 130; // more than the bots' sync filter returns per room (100)

describe('a gappy sync', () => {
  it('is back-filled: a !run buried under chatter while the bots were down is answered once', async () => {
    const opts = await testMeshOptions('gappy');
    const input = join(opts.dir, 'in.txt');
    await writeFile(input, 'under the chatter\n');
    const first = await startDevMesh(opts);
    const cid = await first.add(input);
    const room = first.roomId;
    for (const bot of first.bots) await bot.stop();
    const buried = await first.person.send(room, `!run wordcount ${cid}`);
    for (let i = 0; i < CHATTER; i++) await first.person.send(room, `chatter ${i}`);
    await first.stop();

    const second = await startDevMesh(opts);
    try {
      const bots = new Set(second.bots.map((b) => b.userId as string));
      const answers = async () => {
        const res = await second.person.client.createMessagesRequest(room, null, 400, 'b' as never);
        return res.chunk.filter(
          (e) =>
            e.type === 'm.room.message' &&
            bots.has(e.sender) &&
            (
              e.content['m.relates_to'] as { 'm.in_reply_to'?: { event_id?: string } } | undefined
            )?.['m.in_reply_to']?.event_id === buried,
        );
      };
      await expect.poll(async () => (await answers()).length, { timeout: 60_000 }).toBe(1);
      expect(String((await answers())[0]?.content.body)).toContain('"words":3');
    } finally {
      await second.stop();
    }
  }, 180_000);
});
