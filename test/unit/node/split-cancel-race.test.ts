/**
 * A split task cancelled while its plan is being read (SplitJobs' expandSplit waits up
 * to 15 s for the plan's block) must not leave its parts queued for workers.
 */

import type { CID } from 'multiformats/cid';
import { expect, it } from 'vitest';
import { unexpanded } from '../../../src/coordinator/book-views.ts';
import type { TaskRecord } from '../../../src/coordinator/task-record.ts';
import { expandSplit } from '../../../src/node/splits.ts';
import { withdraw } from '../../../src/node/withdraw.ts';
import { fakeRoom, runningTask } from '../../support/fake-room.ts';

it('parts of a split task cancelled while its plan was read are not queued', async () => {
  const f = await fakeRoom({ self: '@me:hs', members: ['@alice:hs'] });
  f.lease('@me:hs', 1);
  const id = await runningTask(f);
  const input = async (s: string) =>
    (await f.ctx.store.addBytes(new TextEncoder().encode(s))).toString();
  const plan = await f.ctx.store.putDag({
    type: 'meshbot.split',
    parent: id,
    join: 'transcript',
    parts: [
      { input: await input('part one'), params: {} },
      { input: await input('part two'), params: {} },
    ],
  });
  // The worker split it; the plan's block is slow to come (fetched from the mesh).
  f.room.book.complete(
    '@me:hs',
    { task: id, attempt: 1, ok: true, result: plan.toString(), split: true },
    3,
    Date.now(),
  );
  expect(unexpanded(f.room.book).map((r) => r.id)).toEqual([id]);
  let open!: () => void;
  const gate = new Promise<void>((r) => {
    open = r;
  });
  const getDag = f.ctx.store.getDag.bind(f.ctx.store);
  f.ctx.store.getDag = (async (cid: CID, o?: object) => {
    await gate;
    return getDag(cid, o);
  }) as never;
  const expanding = expandSplit(f.ctx, f.room, f.room.book.get(id) as TaskRecord, false);

  // Its submitter cancels it meanwhile.
  expect(await withdraw(f.ctx, f.room, [id], 'cancelled by @alice:hs')).toEqual([id]);
  open();
  await expanding;

  expect(f.room.book.get(id)?.state).toBe('cancelled');
  // Nothing of a cancelled task waits for a worker.
  expect(f.room.book.queued().map((r) => r.id)).toEqual([]);
});
