/**
 * The Verifier on a real Synapse with three bots, one of which returns wrong results: every
 * result of a node in warm-up is checked on another node, the liar is outvoted, quarantined
 * and named in the room, and the person only ever reads right answers.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevMesh, startDevMesh } from '../../src/dev/dev-mesh.ts';
import { asRoomId } from '../../src/ids.ts';
import { REPLY_TAG, type ReplyTag } from '../../src/protocol/manager.ts';
import { askMesh, testMeshOptions, waitUntil } from '../support/mesh.ts';

const REPLY_MS = 90_000;
const TEXT = 'the quick brown fox\njumps over the lazy dog\n';
let mesh: DevMesh;
let dir: string;
let liar = '';

beforeAll(async () => {
  const opts = await testMeshOptions('verifier', {
    bots: 3,
    botConfig: { limits: { fetchTimeoutMs: 6_000 }, verifier: { enabled: true, warmup: 5 } },
    perBot: { 3: { testing: { wrongResultRate: 1 } } },
  });
  dir = opts.dir;
  mesh = await startDevMesh(opts);
  liar = mesh.bots[2]?.userId as string;
});

afterAll(async () => {
  await mesh?.stop();
});

const ask = (body: string) => askMesh(mesh, body, REPLY_MS);

async function addText(): Promise<string> {
  const file = join(dir, `input-${Date.now()}.txt`);
  await writeFile(file, TEXT);
  return mesh.add(file, 0);
}

const assignedTo = (worker: string, after: number) =>
  mesh.person.seen.slice(after).filter((m) => {
    const list = (m.content as { assignments?: { worker: string }[] }).assignments;
    return m.type === 'org.meshbot.assign' && list?.some((a) => a.worker === worker);
  });

describe('a mesh with a node that returns wrong results', () => {
  it('answers every !run right, outvotes the liar and quarantines it, telling the room', async () => {
    const cid = await addText();
    const replies = await Promise.all(
      Array.from({ length: 6 }, (_, i) => ask(`!run wordcount ${cid} n=${i}`)),
    );
    for (const { reply } of replies) {
      expect(JSON.parse(reply.body.split('\n')[0] as string)).toEqual({
        lines: 2,
        words: 9,
        chars: 44,
      });
      expect(reply.body).toMatch(/verified: \d of \d nodes agreed on it/);
    }
    // Every node's book, not only the coordinator's, holds each task with the result the
    // quorum agreed on, and its replicas answered with it.
    const answers = replies.map(({ reply }) => reply.content[REPLY_TAG] as ReplyTag);
    const agreed = () =>
      mesh.bots.every((bot) => {
        const book = bot.node.tasksIn(asRoomId(mesh.roomId));
        return answers.every(({ task, result }) => {
          const rec = book.find((r) => r.id === task);
          const replicas = book.filter((r) => r.parent === task);
          return rec?.result === result && replicas.every((r) => r.answered);
        });
      });
    await waitUntil(agreed, REPLY_MS, "every node's book to hold the verified results");
    const notice = await mesh.person.waitFor(
      (m) => m.type === 'm.room.message' && m.body.includes(`${liar} returned a wrong result`),
      REPLY_MS,
    );
    expect(notice.body).toMatch(/quarantined and gets no new work/);
    const trust = await ask('!trust');
    expect(trust.reply.body).toContain(`${liar}: QUARANTINED`);
  }, 240_000);

  it('gives the quarantined node no more work, and honours replicas=k', async () => {
    const cid = await addText();
    const from = mesh.person.seen.length;
    const { reply } = await ask(`!run wordcount ${cid} replicas=2 again=1`);
    expect(JSON.parse(reply.body.split('\n')[0] as string)).toMatchObject({ words: 9 });
    expect(reply.body).toContain('verified: 2 of 2 nodes agreed on it');
    expect(assignedTo(liar, from)).toEqual([]);
    const honest = mesh.bots.slice(0, 2).map((b) => assignedTo(b.userId as string, from).length);
    expect((honest[0] ?? 0) + (honest[1] ?? 0)).toBeGreaterThanOrEqual(2); // the task and its replica
    const bad = await ask(`!run wordcount ${cid} replicas=99`);
    expect(bad.reply.body).toMatch(/replicas must be a whole number from 1 to 5/);
    // A pipeline's tasks are derived: replicas= would check none of them, and says so.
    const pipeline = await ask(`!run fibsum ${cid} replicas=2`);
    expect(pipeline.reply.body).toMatch(/replicas= checks a single task, not a pipeline/);
  }, 120_000);

  it("lets the liar back in at its owner's word, in warm-up again", async () => {
    const released = await ask(`!trust release ${liar}`);
    expect(released.reply.body).toContain(`${liar} is back`);
    const trust = await ask('!trust');
    expect(trust.reply.body).toContain(`${liar}: in warm-up (0 of 5)`);
    const again = await ask(`!trust release ${liar}`);
    expect(again.reply.body).toContain('is not quarantined');
  }, 120_000);
});
