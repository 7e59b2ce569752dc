/**
 * A pipeline cancelled while its Evaluator derives a stage's tasks (deriveTasks awaits the
 * store for each input) gets none of that stage's tasks queued for workers: the cancel named
 * only the parts known when it came, and the book ends those that arrive after it.
 */
import { expect, it } from 'vitest';
import { pipelineNode, splitRoot } from '../../support/pipeline-node.ts';

it('a pipeline cancelled while a stage is being derived leaves nothing queued', async () => {
  const on = pipelineNode();
  const { store, jobs } = on;
  const { root, book, room } = await splitRoot(on);

  // The store is slow to take the map stage's inputs.
  let open = () => {};
  const gate = new Promise<void>((r) => {
    open = r;
  });
  let storing = () => {};
  const stored = new Promise<void>((r) => {
    storing = r;
  });
  const addBytes = store.addBytes.bind(store);
  store.addBytes = (async (...a: Parameters<typeof addBytes>) => {
    storing();
    await gate;
    return addBytes(...a);
  }) as typeof addBytes;
  const evaluation = jobs.run(room, () => {});
  await stored;
  // The pipeline's cancel lands meanwhile (its submitter's !cancel, on every node).
  book.cancel(root.id, 'cancelled by @friend:localhost', Date.now());
  open();
  await evaluation;

  expect(book.get(root.id)?.state).toBe('cancelled');
  expect(book.queued().map((r) => r.engine)).toEqual([]);
});
