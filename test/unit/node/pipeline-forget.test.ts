/**
 * A node that left a room keeps nothing of the room's old MeshRoom in its pipeline jobs: a
 * stage output whose fetch ends after the node left must not run an evaluation on the old
 * room's book (it would derive the next stage's tasks there, for nobody).
 */
import { expect, it } from 'vitest';
import { PIPELINE_ROOM, pipelineNode, splitRoot } from '../../support/pipeline-node.ts';

it('runs no evaluation of a room the node left when a stage output arrives after', async () => {
  const on = pipelineNode({ fetchTimeoutMs: 5_000 });
  // The split stage's output is on another node: this one fetches it in the background.
  const { book, room, elsewhere, output } = await splitRoot(on, { outputHere: false });
  let open = () => {};
  const gate = new Promise<void>((r) => {
    open = r;
  });
  on.store.addFetcher({
    name: 'peer',
    fetch: async (cid) => {
      await gate;
      if (!cid.equals(output)) throw new Error('not here');
      return elsewhere.getBlock(cid);
    },
  });
  let pokes = 0;
  await on.jobs.run(room, () => pokes++);
  expect(book.queued()).toEqual([]);

  on.jobs.forget(PIPELINE_ROOM);
  open();
  await new Promise((r) => setTimeout(r, 300));
  expect(book.queued()).toEqual([]);
  expect(pokes).toBe(0);
});
