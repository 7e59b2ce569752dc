/**
 * A node that restarts while one of its pipelines runs keeps the book (on disk), not its
 * Evaluator's memory of the stages that fired. A stage fires once, when its condition first
 * holds: a condition that held once need not hold again (here `b` waits for `a` only while `c`
 * has not come), and the restarted node must still know that `b` fired, and answer with it.
 * A real Results GOHO on a memory store; the room and the node context are the parts of them
 * the Evaluator reads.
 */
import { expect, it } from 'vitest';
import { readTaskBlock } from '../../../src/coordinator/task-block.ts';
import { PipelineJobs } from '../../../src/node/pipelines.ts';
import { json, pipelineNode, splitRoot, WORKER } from '../../support/pipeline-node.ts';

const stage = (name: string, when: string) => ({
  ...{ stage: name, when, action: 'enqueue', engine: 'e', input: "get('start')" },
});
/** `b`, the result, is the quick answer `a` allows while the careful `c` is not in. */
const QUICK = {
  type: 'meshbot.pipeline',
  start: 'e',
  stages: [
    stage('a', "exist('start')"),
    stage('c', "exist('a')"),
    stage('b', "exist('a') && !exist('c')"),
  ],
  result: 'b',
};

it('a restarted node still knows the stages that fired, and answers with the result stage', async () => {
  const on = pipelineNode();
  const { store } = on;
  const split = await splitRoot(on, { definition: QUICK, engines: ['e'], acting: true });
  const { root, book, room } = split;
  const evaluate = (jobs: PipelineJobs) => jobs.run(room, () => {});
  const tasksOf = (name: string) =>
    book
      .all()
      .filter(
        (r) => r.parent === root.id && readTaskBlock(r.id, r.block as string).stage?.name === name,
      );
  const finish = async (name: string, value: unknown) => {
    const [task] = tasksOf(name);
    if (!task) throw new Error(`stage ${name} has not fired`);
    const result = (await store.addBytes(json(value))).toString();
    book.assign(task.id, { worker: WORKER, attempt: 1, term: 1 }, 60_000, Date.now());
    book.complete(WORKER, { task: task.id, attempt: 1, ok: true, result }, 3, Date.now());
    return result;
  };

  await evaluate(on.jobs);
  await finish('a', 'a');
  await evaluate(on.jobs);
  // `a` is in and `c` is not: `b` fired, and `c` with it.
  expect(tasksOf('b')).toHaveLength(1);
  expect(tasksOf('c')).toHaveLength(1);
  await finish('c', 'c');

  // The node restarts: its book is read back from disk, its Evaluator starts afresh.
  const restarted = new PipelineJobs(on.ctx);
  await evaluate(restarted);
  const answer = await finish('b', 'b');
  await evaluate(restarted);

  expect(book.get(root.id)?.error).toBeUndefined();
  expect(book.get(root.id)?.state).toBe('done');
  expect(book.get(root.id)?.result).toBe(answer);
});
