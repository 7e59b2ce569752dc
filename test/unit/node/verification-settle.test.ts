/**
 * The coordinator's check of a replicated task: a result a node reports that is not a CID
 * (a buggy or hostile node) is compared by its string, not thrown on; the check does not spin.
 */
import { describe, expect, it } from 'vitest';
import { readTaskBlock } from '../../../src/coordinator/task-block.ts';
import type { EnginePackage } from '../../../src/engines/types.ts';
import type { Ledgers } from '../../../src/node/ledgers.ts';
import { Verification } from '../../../src/node/verification.ts';
import { fakeRoom, runningTask } from '../../support/fake-room.ts';

const W1 = '@w1:hs';
const W2 = '@w2:hs';
const GOOD = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';

describe('checking a whisper task run twice', () => {
  it('settles a result that is no CID without an error, and without spinning', async () => {
    const f = await fakeRoom({
      self: '@me:hs',
      nodes: { [W1]: { owner: '@b:hs' }, [W2]: { owner: '@c:hs' } },
    });
    f.lease('@me:hs', 1);
    // This node coordinates.
    (f.room.election as { acting: () => boolean }).acting = () => true;
    const id = await runningTask(f, { replicas: 2 });
    // Transcripts are compared by their text, which is read from the store.
    const block = f.room.book.get(id)?.block as string;
    const cid = readTaskBlock(id, block).engine.cid.toString();
    const engine = { cid, manifest: { runtime: 'whisper' } };
    f.ctx.engines.set('echo', engine as unknown as EnginePackage);
    f.ctx.ledgers = { get: () => ({ enqueue: async () => {} }) } as unknown as Ledgers;
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
});
