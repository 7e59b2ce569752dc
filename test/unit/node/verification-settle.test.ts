/**
 * The coordinator's check of a replicated task: a result a node reports that is not a CID
 * (a buggy or hostile node) is compared by its string, not thrown on; the check does not spin.
 */
import { describe, expect, it } from 'vitest';
import { readTaskBlock } from '../../../src/coordinator/task-block.ts';
import type { EnginePackage } from '../../../src/engines/types.ts';
import type { Ledgers } from '../../../src/node/ledgers.ts';
import { Verification } from '../../../src/node/verification.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';
import { encodeTranscript } from '../../../src/whisper/transcript.ts';
import { fakeRoom, runningTask } from '../../support/fake-room.ts';

const W1 = '@w1:hs';
const W2 = '@w2:hs';
const transcript = (text: string) =>
  encodeTranscript({
    type: 'meshbot.transcript',
    text,
    language: 'en',
    durationMs: 1000,
    model: { name: 'tiny', sha256: 'x' },
    segments: [{ startMs: 0, endMs: 1000, text }],
  });

/**
 * A whisper task asked for with `replicas=2` in a room this node coordinates, among `nodes`:
 * its id, once the engine is known as a whisper one (transcripts are compared by their text).
 */
async function whisperTask(nodes: string[]) {
  const f = await fakeRoom({
    self: '@me:hs',
    nodes: Object.fromEntries(nodes.map((n, i) => [n, { owner: `@owner${i}:hs` }])),
  });
  f.lease('@me:hs', 1);
  // This node coordinates.
  (f.room.election as { acting: () => boolean }).acting = () => true;
  const id = await runningTask(f, { replicas: 2 });
  const block = f.room.book.get(id)?.block as string;
  const cid = readTaskBlock(id, block).engine.cid.toString();
  const engine = { cid, manifest: { runtime: 'whisper' } };
  f.ctx.engines.set('echo', engine as unknown as EnginePackage);
  f.ctx.ledgers = { get: () => ({ enqueue: async () => {} }) } as unknown as Ledgers;
  return { f, id };
}

describe('checking a whisper task run twice', () => {
  it('settles a result that is no CID without an error, and without spinning', async () => {
    const { f, id } = await whisperTask([W1, W2]);
    const GOOD = (await f.ctx.store.addBytes(transcript('a good transcript'))).toString();
    const now = Date.now();
    f.room.book.assign(id, { worker: W1, attempt: 2, term: 1 }, 60_000, now);
    f.room.book.complete(W1, { task: id, attempt: 2, ok: true, result: 'zzzzzzzzzzzz' }, 3, now);
    const v = new Verification(f.ctx);
    v.plan(f.room);
    const replica = f.room.book.get(id)?.parts?.[0] as string;
    f.room.book.assign(replica, { worker: W2, attempt: 1, term: 1 }, 60_000, now);
    f.room.book.complete(W2, { task: replica, attempt: 1, ok: true, result: GOOD }, 3, now);
    // The coordinator settles again at every poke.
    let rounds = 0;
    const poke = () => {
      rounds++;
      if (rounds < 1_000) setImmediate(() => v.settle(f.room, poke));
    };
    v.settle(f.room, poke);
    await new Promise((r) => setTimeout(r, 300));
    expect(f.logs.filter((l) => l.includes('could not settle a check'))).toEqual([]);
    expect(rounds).toBeLessThan(5);
    // The two results differ: the check asked a third node, or ended without agreement.
    const rec = f.room.book.get(id);
    expect((rec?.parts?.length ?? 0) > 1 || rec?.state === 'failed').toBe(true);
  });

  it('settles without a transcript it cannot read, and blames nobody for it', async () => {
    const W3 = '@w3:hs';
    const { f, id } = await whisperTask([W1, W2, W3]);
    const words =
      'the quick brown fox jumps over the lazy dog and then runs far away into the woods';
    const a = (await f.ctx.store.addBytes(transcript(words))).toString();
    const a3 = (await f.ctx.store.addBytes(transcript(`${words}.`))).toString();
    // W2's transcript, one word off (within the 10% the check allows), is on W2 only, which
    // went offline right after it reported: nobody can read it.
    const b = await createMemoryStore().addBytes(transcript(words.replace('lazy', 'hazy')));
    const now = Date.now();
    f.room.book.assign(id, { worker: W1, attempt: 2, term: 1 }, 60_000, now);
    f.room.book.complete(W1, { task: id, attempt: 2, ok: true, result: a }, 3, now);
    const v = new Verification(f.ctx);
    v.plan(f.room);
    const r1 = f.room.book.get(id)?.parts?.[0] as string;
    f.room.book.assign(r1, { worker: W2, attempt: 1, term: 1 }, 60_000, now);
    f.room.book.complete(W2, { task: r1, attempt: 1, ok: true, result: b.toString() }, 3, now);
    // The coordinator's ticks.
    const tick = () =>
      new Promise<void>((resolve) => {
        v.settle(f.room, resolve);
        setTimeout(resolve, 200);
      });
    for (let i = 0; i < 5; i++) await tick();
    // Without W2's, one result is left: a third node is asked.
    const r2 = f.room.book.get(id)?.parts?.[1] as string;
    expect(r2).toBeDefined();
    f.room.book.assign(r2, { worker: W3, attempt: 1, term: 1 }, 60_000, now);
    f.room.book.complete(W3, { task: r2, attempt: 1, ok: true, result: a3 }, 3, now);
    for (let i = 0; i < 5; i++) await tick();
    expect(f.room.book.get(id)?.state).toBe('done');
    expect(f.room.trust.isQuarantined(W2)).toBe(false);
    const sent = f.sent.map((s) => JSON.stringify(s.content));
    expect(sent.filter((c) => c.includes('returned a wrong result'))).toEqual([]);
  });
});
