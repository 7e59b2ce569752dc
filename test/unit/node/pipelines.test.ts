/**
 * The Evaluator on a node:
 * - it heard the pipeline root's completion before it has the root's output (the stage
 *   `start`): it must not fire a stage until it can read it. The shipped fibsum pipeline's
 *   `sum` condition, len('fib') == len('start'), holds at 0 == 0 on an empty pipeline; firing
 *   it then answered the sum of nothing (a full run of the e2e pipeline tests caught it once,
 *   as the reply `0`);
 * - a stage reads the output of the result the book accepted: not an output whose completion
 *   the book has not taken, nor the leaves at its path in the Results GOHO (another run's, or
 *   one a hostile node wrote in the worker's name), and it needs no leaf at all.
 * A real Results GOHO on a memory store; the room and the node context are the parts of them
 * the Evaluator reads.
 */
import { describe, expect, it } from 'vitest';
import { pipelines } from '../../../src/coordinator/book-views.ts';
import { readTaskBlock } from '../../../src/coordinator/task-block.ts';
import type { RoomId } from '../../../src/ids.ts';
import {
  json,
  pipelineNode as node,
  type PipelineNode,
  PIPELINE_ROOM as ROOM,
  splitRoot,
  WORKER,
} from '../../support/pipeline-node.ts';

const OTHER = '@other:localhost';

/**
 * A room on `on` (a new node by default) whose fibsum pipeline's root ran and split, its output
 * `[1,2,3]` in the node's store unless `rootOutputHere` is false.
 */
async function setup(on: PipelineNode = node(), roomId = ROOM, rootOutputHere = true) {
  const { store, jobs } = on;
  const split = await splitRoot(on, { room: roomId, outputHere: rootOutputHere });
  const { root, book, room, results, elsewhere } = split;
  // The root ran and split: its completion is in the book, its output maybe not in the store.
  const rootOutputArrives = async () => {
    await store.putBlock(split.output, await elsewhere.getBlock(split.output));
  };
  expect(pipelines(book).map((r) => r.id)).toEqual([root.id]);
  // One evaluation: whether it fired something (`poke`).
  const evaluate = async () => {
    let fired = false;
    await jobs.run(room, () => {
      fired = true;
    });
    return fired;
  };
  const stages = () =>
    book
      .all()
      .filter((r) => r.parent === root.id)
      .map((r) => r.engine);
  /** `author`'s leaf at a stage path: `value` (a worker writes its output's; anyone may). */
  const write = (path: string, value: unknown, author = WORKER, clock?: number) =>
    results.append({
      path: `pipelines/${root.id}/${path}`,
      action: 'set',
      value: value as number,
      author,
      ...(clock === undefined ? {} : { clock }),
    });
  /** An output in the node's store; its CID, the result a completion names. */
  const output = async (value: unknown) => (await store.addBytes(json(value))).toString();
  /** The derived task whose output goes to `path`. */
  const taskAt = (path: string) => {
    const [name, index] = path.split('/');
    const rec = book.all().find((r) => {
      if (r.parent !== root.id || !r.block) return false;
      const { stage } = readTaskBlock(r.id, r.block);
      return stage !== undefined && stage.name === name && String(stage.index) === String(index);
    });
    if (!rec) throw new Error(`no task for ${path}`);
    return rec.id;
  };
  /** The book takes `worker`'s completion of the task at `path` with `result`. */
  const complete = (path: string, result: string, worker = WORKER, attempt = 1) => {
    const id = taskAt(path);
    book.assign(id, { worker, attempt, term: 1 }, 60_000, Date.now());
    book.complete(worker, { task: id, attempt, ok: true, result }, 3, Date.now());
  };
  /** A run of the task at `path` that the book accepts, its leaf written as a worker does. */
  const finish = async (path: string, value: unknown) => {
    await write(path, value);
    complete(path, await output(value));
  };
  /** The input of the pipeline's reduce task, once it fired. */
  const reduceInput = async () => {
    const reduce = book.all().filter((r) => r.parent === root.id && r.engine === 'fibsum-reduce');
    expect(reduce).toHaveLength(1);
    const task = readTaskBlock(reduce[0]?.id as string, reduce[0]?.block as string);
    return new TextDecoder().decode(await store.cat(task.input));
  };
  return {
    ...{ root, results, book, evaluate, stages, write, output, taskAt, complete, finish },
    ...{ reduceInput, rootOutputArrives },
  };
}

describe('the Evaluator on a node', () => {
  it('fires no stage before it can read the root output', async () => {
    const { evaluate, stages, rootOutputArrives } = await setup(node(), ROOM, false);
    expect(await evaluate()).toBe(false);
    expect(stages()).toEqual([]);
    await rootOutputArrives();
    expect(await evaluate()).toBe(true);
    expect(stages()).toEqual(['fibsum-map', 'fibsum-map', 'fibsum-map']);
  });

  it('fires the map stage at once, and the reduce only after every part', async () => {
    const { finish, evaluate, stages, reduceInput } = await setup();
    expect(await evaluate()).toBe(true);
    expect(stages()).toEqual(['fibsum-map', 'fibsum-map', 'fibsum-map']);

    // Two of three map outputs: len('fib') == len('start') does not hold yet.
    await finish('fib/0', 1);
    await finish('fib/1', 1);
    expect(await evaluate()).toBe(false);
    await finish('fib/2', 2);
    expect(await evaluate()).toBe(true);
    // It sums every part's output.
    expect(await reduceInput()).toBe('[1,1,2]');
  });

  it('counts an output only once the book holds its completion', async () => {
    const { write, output, complete, evaluate, reduceInput } = await setup();
    await evaluate();
    for (const [i, v] of [1, 1, 2].entries()) await write(`fib/${i}`, v);
    // All three leaves are in, and the outputs in the store, but no completion: the reduce waits.
    const results = [await output(1), await output(1), await output(2)];
    expect(await evaluate()).toBe(false);
    complete('fib/0', results[0] as string);
    complete('fib/1', results[1] as string);
    expect(await evaluate()).toBe(false);
    complete('fib/2', results[2] as string);
    expect(await evaluate()).toBe(true);
    expect(await reduceInput()).toBe('[1,1,2]');
  });

  it("reads the result the book accepted, not another run's leaf that wins the path", async () => {
    const { write, output, taskAt, book, finish, evaluate, results, root, reduceInput } =
      await setup();
    await evaluate();
    await finish('fib/0', 1);
    await finish('fib/1', 1);
    // fib/2 ran twice: the lease of its first worker ran out, and a second node ran it too.
    // The book took the first worker's completion; the second node's leaf has a higher clock
    // and wins the path in the Results GOHO.
    const id = taskAt('fib/2');
    const now = Date.now();
    book.assign(id, { worker: WORKER, attempt: 1, term: 1 }, 60_000, now);
    book.assign(id, { worker: OTHER, attempt: 2, term: 1 }, 60_000, now);
    await write('fib/2', 2, WORKER, 10);
    await write('fib/2', 99, OTHER, 20);
    const accepted = await output(2);
    book.complete(WORKER, { task: id, attempt: 1, ok: true, result: accepted }, 3, now);
    book.complete(OTHER, { task: id, attempt: 2, ok: true, result: await output(99) }, 3, now);
    expect(book.get(id)?.result).toBe(accepted);
    expect((await results.value()).get(`pipelines/${root.id}/fib/2`)).toBe(99);
    expect(await evaluate()).toBe(true);
    expect(await reduceInput()).toBe('[1,1,2]');
  });

  it("ignores leaves a hostile node writes in the worker's name, at any path", async () => {
    const { write, output, complete, evaluate, stages, reduceInput } = await setup();
    // A forged `start` would change every task the pipeline derives. Its clock is ahead of
    // every honest leaf's (as far ahead as a GOHO lets a writer go).
    await write('start', [7, 7, 7, 7], WORKER, 1_000);
    expect(await evaluate()).toBe(true);
    expect(stages()).toHaveLength(3);
    for (const [i, v] of [1, 1, 2].entries()) {
      complete(`fib/${i}`, await output(v));
      await write(`fib/${i}`, 666, WORKER, 1_000);
    }
    expect(await evaluate()).toBe(true);
    expect(await reduceInput()).toBe('[1,1,2]');
  });

  it("reads an accepted output whose worker's leaf never came (it crashed after reporting)", async () => {
    const { output, complete, evaluate, reduceInput } = await setup();
    await evaluate();
    for (const [i, v] of [1, 1, 2].entries()) complete(`fib/${i}`, await output(v));
    expect(await evaluate()).toBe(true);
    expect(await reduceInput()).toBe('[1,1,2]');
  });

  it("keeps each room's fired stages when it evaluates another room", async () => {
    // One node in two mesh rooms, a pipeline running in each.
    const shared = node();
    const a = await setup(shared, '!a:localhost' as RoomId);
    const b = await setup(shared, '!b:localhost' as RoomId);
    expect(await b.evaluate()).toBe(true);
    expect(await a.evaluate()).toBe(true);
    // Nothing new in either room: no stage fires again (b's fired stages were dropped when a
    // was evaluated, and its map stage fired a second time).
    expect(await b.evaluate()).toBe(false);
    expect(await a.evaluate()).toBe(false);
    expect(b.stages()).toEqual(['fibsum-map', 'fibsum-map', 'fibsum-map']);
    expect(a.stages()).toEqual(['fibsum-map', 'fibsum-map', 'fibsum-map']);
  });
});
