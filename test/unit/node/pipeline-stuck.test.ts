/**
 * A pipeline whose result stage can no longer fire is ended by the acting coordinator, with
 * the stages that never held their conditions, and its `!run` is answered (review: it stayed
 * `split` for good). Not before every task it derived is final and every output read (one
 * still being fetched may make a stage fire), nor while a waiting stage reads another GOHO
 * (`hpcp()`), which changes without the pipeline's tasks.
 * A real Results GOHO on a memory store; the room and the node context are the parts of them
 * the Evaluator reads.
 */
import { CID } from 'multiformats/cid';
import { describe, expect, it } from 'vitest';
import { readTaskBlock, taskInfo } from '../../../src/coordinator/task-block.ts';
import { encodeTask } from '../../../src/queue/task.ts';
import {
  json,
  pipelineNode,
  PIPELINE_ROOM as ROOM,
  splitRoot,
  WORKER,
} from '../../support/pipeline-node.ts';

const stage = (name: string, when: string, input: string, action = 'enqueue') => ({
  ...{ stage: name, when, action, engine: 'e', input },
});
const pipeline = (stages: unknown[], result: string) => ({
  ...{ type: 'meshbot.pipeline', start: 'e', stages, result },
});

/** A map over `start`, and a result stage whose condition never holds once every part is in. */
const NEVER = pipeline(
  [
    stage('fib', "exist('start')", "get('start')", 'map'),
    stage('sum', "len('fib') == len('start') + 1", "values('fib')"),
  ],
  'sum',
);

/**
 * A pipeline whose root ran and output `start` on a node that acts as coordinator (or not).
 * Its definition is taken as it is (a peer's task is checked when the Evaluator reads it).
 */
async function setup(
  def: object | ((resultsOrigin: string) => object),
  start: unknown = [1, 2, 3],
  acting = true,
) {
  const on = pipelineNode();
  const { store, jobs } = on;
  store.addFetcher({
    name: 'test',
    async fetch() {
      throw new Error('no node has it yet');
    },
  });
  const split = await splitRoot(on, { definition: def, engines: ['e'], output: start, acting });
  const { root, book, results, room, elsewhere } = split;
  const evaluate = () => jobs.run(room, () => {});
  const parts = () => book.all().filter((r) => r.parent === root.id);
  const stageOf = (id: string, block: string) => readTaskBlock(id, block).stage?.name;
  /** The book takes a completion of each queued task of `name`, its output here or not yet. */
  const finish = async (name: string, outputHere = true) => {
    const arrive: (() => Promise<void>)[] = [];
    for (const r of parts().filter((x) => x.state === 'queued')) {
      if (stageOf(r.id, r.block as string) !== name) continue;
      // Not a value the store holds already (each part's input is an element of `start`).
      const result = await (outputHere ? store : elsewhere).addBytes(json({ fib: 1 }));
      arrive.push(async () => store.putBlock(result, await elsewhere.getBlock(result)));
      book.assign(r.id, { worker: WORKER, attempt: 1, term: 1 }, 60_000, Date.now());
      const outcome = { task: r.id, attempt: 1, ok: true as const, result: result.toString() };
      book.complete(WORKER, outcome, 3, Date.now());
    }
    return async () => {
      for (const a of arrive) await a();
    };
  };
  const stages = () => parts().map((r) => stageOf(r.id, r.block as string));
  return { root, book, results, evaluate, finish, parts, stages };
}

const settle = () => new Promise((r) => setTimeout(r, 50));

describe('a pipeline that can no longer progress', () => {
  it('is ended once every part is in and its result stage does not hold, and answered', async () => {
    const { root, book, evaluate, finish, parts } = await setup(NEVER);
    await evaluate();
    expect(parts()).toHaveLength(3);
    // Parts still to run: the result stage may yet hold.
    await evaluate();
    expect(book.get(root.id)?.state).toBe('split');
    await finish('fib');
    await evaluate();
    expect(parts().map((r) => r.state)).toEqual(['done', 'done', 'done']);
    expect(book.get(root.id)).toMatchObject({
      state: 'failed',
      error: {
        code: 'PIPELINE_STUCK',
        message: `no stage can fire any more: "sum" (when "len('fib') == len('start') + 1") never held its condition`,
      },
    });
    // Answered as any failed pipeline is: the coordinator's answers take it from here.
    expect(book.unanswered().map((r) => r.id)).toEqual([root.id]);
  });

  it('whose stages cannot fire from the start is ended, naming each of them', async () => {
    const never = pipeline(
      [stage('a', "len('start') > 5", "get('start')"), stage('b', "exist('a')", "get('a')")],
      'b',
    );
    const { root, book, evaluate, parts } = await setup(never);
    await evaluate();
    expect(parts()).toEqual([]);
    expect(book.get(root.id)?.error).toEqual({
      code: 'PIPELINE_STUCK',
      message: `no stage can fire any more: "a" (when "len('start') > 5") and "b" (when "exist('a')") never held their conditions`,
    });
  });

  it('whose stages wait on each other through a computed path (a peer sent it) is ended', async () => {
    const cycle = pipeline(
      [stage('a', "exist('b' + '')", "get('start')"), stage('b', "exist('a')", "get('start')")],
      'b',
    );
    const { root, book, evaluate, parts } = await setup(cycle);
    await evaluate();
    expect(parts()).toEqual([]);
    // Refused when the Evaluator reads it, as it would have been at enqueue.
    expect(book.get(root.id)?.error?.code).toBe('BAD_CONDITION');
    expect(book.get(root.id)?.error?.message).toMatch(/^stage "a", when: .*computed path/);
  });

  it('is not judged while an output is still being fetched; once it is in, it is', async () => {
    const { root, book, evaluate, finish } = await setup(NEVER);
    await evaluate();
    // Every part is done, but their outputs are on another node: each fetch fails for now.
    const arrive = await finish('fib', false);
    await evaluate();
    await settle();
    await evaluate();
    expect(book.get(root.id)?.state).toBe('split');
    await arrive();
    await evaluate();
    expect(book.get(root.id)?.error?.code).toBe('PIPELINE_STUCK');
  });

  it('is left running while a waiting stage reads another GOHO, which may still change', async () => {
    const remote = (origin: string) =>
      pipeline(
        [
          stage('fib', "exist('start')", "get('start')", 'map'),
          stage(
            'sum',
            `len('fib') == len('start') + 1 || hpcp('${origin}/go') == 1`,
            "values('fib')",
          ),
        ],
        'sum',
      );
    const { root, book, results, evaluate, finish, stages } = await setup(remote);
    await evaluate();
    await finish('fib');
    await evaluate();
    await evaluate();
    expect(book.get(root.id)?.state).toBe('split');
    // The room's Results GOHO changes with no task of this pipeline: the result stage fires.
    await results.append({ path: 'go', action: 'set', value: 1, author: WORKER });
    await evaluate();
    expect(stages()).toEqual(['fib', 'fib', 'fib', 'sum']);
    expect(book.get(root.id)?.state).toBe('split');
  });

  it('is not judged while a task of it that another node derived still runs', async () => {
    const { root, book, evaluate, finish } = await setup(NEVER);
    await evaluate();
    await finish('fib');
    // Another node's evaluation fired a stage this one never saw hold: its task is in the book.
    const other = encodeTask({
      ...{ type: 'task', engine: { name: 'e', cid: CID.parse(root.task.engine.cid.toString()) } },
      ...{ input: root.task.input, params: {}, submitter: '@friend:localhost', room: ROOM },
      ...{ request: '$run', parent: CID.parse(root.id), stage: { name: 'sum' } },
    });
    book.accept(other.id, Buffer.from(other.block).toString('base64'), taskInfo(other.task), 0);
    await evaluate();
    expect(book.get(root.id)?.state).toBe('split');
    book.assign(other.id, { worker: WORKER, attempt: 1, term: 1 }, 60_000, Date.now());
    const failure = { code: 'ENGINE', message: 'it broke' };
    book.complete(WORKER, { task: other.id, attempt: 1, ok: false, error: failure }, 1, Date.now());
    await evaluate();
    expect(book.get(root.id)?.error?.code).toBe('PIPELINE_STUCK');
  });

  it('is left to the acting coordinator', async () => {
    const { root, book, evaluate, finish } = await setup(NEVER, [1, 2, 3], false);
    await evaluate();
    await finish('fib');
    await evaluate();
    expect(book.get(root.id)?.state).toBe('split');
  });

  it('maps over an empty list: a stage that waits for the map ends it, one that counts does not', async () => {
    const waitsForAny = pipeline(
      [
        stage('fib', "exist('start')", "get('start')", 'map'),
        stage('sum', "exist('fib')", "values('fib')"),
      ],
      'sum',
    );
    const a = await setup(waitsForAny, []);
    await a.evaluate();
    await a.evaluate();
    expect(a.parts()).toEqual([]);
    expect(a.book.get(a.root.id)?.error).toEqual({
      code: 'PIPELINE_STUCK',
      message: `no stage can fire any more: "sum" (when "exist('fib')") never held its condition`,
    });
    // The shipped fibsum's condition holds at 0 == 0: the sum of nothing is enqueued.
    const counts = pipeline(
      [
        stage('fib', "exist('start')", "get('start')", 'map'),
        stage('sum', "len('fib') == len('start')", "values('fib')"),
      ],
      'sum',
    );
    const b = await setup(counts, []);
    await b.evaluate();
    await b.evaluate();
    expect(b.stages()).toEqual(['sum']);
    expect(b.book.get(b.root.id)?.state).toBe('split');
  });
});
