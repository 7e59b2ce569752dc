/**
 * A pipeline's tasks that another node derived (the coordinator before this one) reach this
 * node's book with their assignments, linked to the pipeline by their parent, before its own
 * Evaluator fires their stage (the root's output is still on its way here): they are not in
 * the pipeline's `parts` yet. Cancelled, the pipeline must withdraw them too: else this node,
 * now coordinating, hands them out, and their workers run them for nothing.
 */
import { expect, it } from 'vitest';
import { taskInfo } from '../../../src/coordinator/task-block.ts';
import type { TaskBook } from '../../../src/coordinator/task-book.ts';
import { deriveTasks } from '../../../src/evaluator/derive.ts';
import { checkPipeline } from '../../../src/evaluator/pipeline.ts';
import type { MeshClient } from '../../../src/matrix/types.ts';
import { withdraw } from '../../../src/node/withdraw.ts';
import { pipelineNode, splitRoot } from '../../support/pipeline-node.ts';

/**
 * What another node's Evaluator derived for the stage at `index` (over the elements 1 and 2),
 * brought into this node's book by their assignments.
 */
async function deriveHere(
  on: ReturnType<typeof pipelineNode>,
  root: Awaited<ReturnType<typeof splitRoot>>['root'],
  book: TaskBook,
  index: number,
) {
  const stage = checkPipeline(root.task.pipeline as never)[index];
  const derived = await deriveTasks(
    on.store,
    { id: root.id, task: root.task },
    stage as never,
    [1, 2],
  );
  for (const d of derived) {
    book.accept(d.id, Buffer.from(d.block).toString('base64'), taskInfo(d.task), Date.now());
  }
  return derived;
}

it('a cancelled pipeline withdraws the tasks linked to it that it did not derive itself', async () => {
  const on = pipelineNode();
  const sent: { type: string; content: { tasks: string[] } }[] = [];
  const send = async (_room: string, type: string, content: { tasks: string[] }) => {
    sent.push({ type, content });
    return '$sent';
  };
  Object.assign(on.ctx, { client: { send } as unknown as MeshClient });
  const { root, book, room } = await splitRoot(on, { acting: true, outputHere: false });
  // Nothing fired here: the root's output is not here yet.
  await on.jobs.run(room, () => {});
  expect(book.get(root.id)?.parts ?? []).toEqual([]);
  // The previous coordinator fired the map stage; its assignments brought the tasks here.
  const derived = await deriveHere(on, root, book, 0);

  const cancelled = await withdraw(on.ctx, room, [root.id], 'cancelled by @friend:localhost');

  expect(cancelled).toEqual([root.id]);
  expect(book.queued().map((r) => r.id)).toEqual([]);
  for (const d of derived) expect(book.get(d.id)?.state).toBe('cancelled');
  // Every node is told of them by name: their books may not link them either.
  expect(sent.flatMap((s) => s.content.tasks).sort()).toEqual(
    [root.id, ...derived.map((d) => d.id)].sort(),
  );
});

it('a failed pipeline withdraws the tasks linked to it that it did not derive itself', async () => {
  const on = pipelineNode();
  Object.assign(on.ctx, { client: { send: async () => '$sent' } as unknown as MeshClient });
  const stage = (name: string, when: string, input: string, action = 'enqueue') => ({
    ...{ stage: name, when, action, engine: 'e', input },
  });
  const definition = {
    type: 'meshbot.pipeline',
    start: 'e',
    stages: [
      // Compares a list with a string: its evaluation fails, and with it the pipeline.
      stage('bad', "get('start') > 'a'", "get('start')"),
      stage('fib', "exist('start')", "get('start')", 'map'),
      stage('sum', "len('fib') == len('start')", "values('fib')"),
    ],
    result: 'sum',
  };
  const { root, book, room } = await splitRoot(on, { definition, engines: ['e'], acting: true });
  const derived = await deriveHere(on, root, book, 1);

  await on.jobs.run(room, () => {});

  expect(book.get(root.id)?.state).toBe('failed');
  expect(book.queued().map((r) => r.id)).toEqual([]);
  for (const d of derived) expect(book.get(d.id)?.state).toBe('cancelled');
});
