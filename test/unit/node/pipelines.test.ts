/**
 * The Evaluator on a node:
 * - it heard the pipeline root's completion before the Results head that carries its output:
 *   it must not fire a stage until it sees the stage `start`. The shipped fibsum pipeline's
 *   `sum` condition, len('fib') == len('start'), holds at 0 == 0 on an empty view; firing it
 *   then answered the sum of nothing (a full run of the e2e pipeline tests caught it once, as
 *   the reply `0`);
 * - a stage reads the output the book accepted: not an output whose completion the book has
 *   not taken, nor another run's leaf that wins the same path.
 * A real Results GOHO on a memory store; the room and the node context are the parts of them
 * the Evaluator reads.
 */
import { readFileSync } from 'node:fs';
import { CID } from 'multiformats/cid';
import { describe, expect, it } from 'vitest';
import { readTaskBlock, taskInfo } from '../../../src/coordinator/task-block.ts';
import { TaskBook } from '../../../src/coordinator/task-book.ts';
import { parsePipeline } from '../../../src/evaluator/pipeline.ts';
import type { RoomId, UserId } from '../../../src/ids.ts';
import { createGoho, type Goho } from '../../../src/lattice/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { NodeContext } from '../../../src/node/context.ts';
import type { MeshRoom } from '../../../src/node/mesh-room.ts';
import { PipelineJobs } from '../../../src/node/pipelines.ts';
import { encodeTask } from '../../../src/queue/task.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';

const ROOM = '!mesh:localhost' as RoomId;
const SELF = '@node:localhost' as UserId;
const WORKER = '@worker:localhost';
const OTHER = '@other:localhost';
const FIBSUM = JSON.parse(
  readFileSync(new URL('../../../engines/fibsum/pipeline.json', import.meta.url), 'utf8'),
);

/** A node's store and Evaluator, with a Results GOHO per room. */
function node() {
  const store = createMemoryStore();
  const gohos = new Map<RoomId, Goho>();
  const ctx = {
    store,
    ledgers: { get: (room: RoomId) => ({ resultsGoho: gohos.get(room) }) },
    config: { evaluator: { maxFanOut: 100 } },
    signal: new AbortController().signal,
    log: silentLogger,
    self: SELF,
  } as unknown as NodeContext;
  return { store, gohos, jobs: new PipelineJobs(ctx) };
}

/** A room on `on` (a new node by default) whose fibsum pipeline's root ran and split. */
async function setup(on = node(), roomId = ROOM) {
  const { store, jobs } = on;
  const results = await createGoho(store, { name: `results of ${roomId}` });
  on.gohos.set(roomId, results);
  const engine = (await store.addBytes(new TextEncoder().encode('engine'))).toString();
  const engines = { 'fibsum-split': engine, 'fibsum-map': engine, 'fibsum-reduce': engine };
  const root = encodeTask({
    type: 'task',
    engine: { name: 'fibsum-split', cid: CID.parse(engine) },
    input: await store.addBytes(new TextEncoder().encode('{"n":3}')),
    params: {},
    submitter: '@friend:localhost',
    room: roomId,
    request: '$run',
    pipeline: parsePipeline({ ...FIBSUM, engines }),
  });
  // The root ran and split: its completion is in the book, its output maybe not in the view.
  const book = new TaskBook();
  const now = Date.now();
  book.accept(root.id, Buffer.from(root.block).toString('base64'), taskInfo(root.task), now);
  book.assign(root.id, { worker: WORKER, attempt: 1, term: 1 }, 60_000, now);
  const output = (await store.addBytes(new TextEncoder().encode('[1,2,3]'))).toString();
  book.complete(
    WORKER,
    { task: root.id, attempt: 1, ok: true, result: output, split: true },
    3,
    now,
  );
  expect(book.pipelines().map((r) => r.id)).toEqual([root.id]);

  const room = {
    id: roomId,
    book,
    election: { acting: () => false },
    changed: () => {},
  } as unknown as MeshRoom;
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
  /** `author`'s leaf at a stage path: `value`, for the output that is its JSON. */
  const write = async (path: string, value: unknown, author = WORKER, clock?: number) => {
    const bytes = new TextEncoder().encode(JSON.stringify(value));
    const result = (await store.addBytes(bytes)).toString();
    const key = path === 'start' ? output : result;
    await results.append({
      path: `pipelines/${root.id}/${path}`,
      action: 'set',
      value: value as number,
      author,
      key,
      ...(clock === undefined ? {} : { clock }),
    });
    return key;
  };
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
  /** A run of the task at `path` that the book accepts. */
  const finish = async (path: string, value: unknown) => complete(path, await write(path, value));
  /** The input of the pipeline's reduce task, once it fired. */
  const reduceInput = async () => {
    const reduce = book.all().filter((r) => r.parent === root.id && r.engine === 'fibsum-reduce');
    expect(reduce).toHaveLength(1);
    const task = readTaskBlock(reduce[0]?.id as string, reduce[0]?.block as string);
    return new TextDecoder().decode(await store.cat(task.input));
  };
  return { root, results, book, evaluate, stages, write, taskAt, complete, finish, reduceInput };
}

describe('the Evaluator on a node', () => {
  it('fires no stage before the root output is in its Results view', async () => {
    const { evaluate, stages } = await setup();
    expect(await evaluate()).toBe(false);
    expect(stages()).toEqual([]);
  });

  it('fires the map stage once the root output arrives, and the reduce only after every part', async () => {
    const { write, finish, evaluate, stages, reduceInput } = await setup();
    await write('start', [1, 2, 3]);
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

  it('reads no start that the root did not give: another node wrote it', async () => {
    const { write, evaluate, stages } = await setup();
    await write('start', [1, 2, 3], OTHER);
    expect(await evaluate()).toBe(false);
    expect(stages()).toEqual([]);
  });

  it('counts an output only once the book holds its completion', async () => {
    const { write, complete, evaluate, reduceInput } = await setup();
    await write('start', [1, 2, 3]);
    await evaluate();
    const results = [await write('fib/0', 1), await write('fib/1', 1), await write('fib/2', 2)];
    // All three leaves are in, but no completion: the reduce waits.
    expect(await evaluate()).toBe(false);
    complete('fib/0', results[0] as string);
    complete('fib/1', results[1] as string);
    expect(await evaluate()).toBe(false);
    complete('fib/2', results[2] as string);
    expect(await evaluate()).toBe(true);
    expect(await reduceInput()).toBe('[1,1,2]');
  });

  it("reads the output the book accepted, not another run's leaf that wins the path", async () => {
    const { write, taskAt, book, finish, evaluate, results, root, reduceInput } = await setup();
    await write('start', [1, 2, 3]);
    await evaluate();
    await finish('fib/0', 1);
    await finish('fib/1', 1);
    // fib/2 ran twice: the lease of its first worker ran out, and a second node ran it too.
    // The book took the first worker's completion; the second node's leaf has a higher clock
    // and wins the path in the Results GOHO. So does a leaf of the first worker for another
    // result (an engine that is not deterministic, run again).
    const id = taskAt('fib/2');
    const now = Date.now();
    book.assign(id, { worker: WORKER, attempt: 1, term: 1 }, 60_000, now);
    book.assign(id, { worker: OTHER, attempt: 2, term: 1 }, 60_000, now);
    const accepted = await write('fib/2', 2, WORKER, 10);
    const other = await write('fib/2', 99, OTHER, 20);
    await write('fib/2', 98, WORKER, 30);
    book.complete(WORKER, { task: id, attempt: 1, ok: true, result: accepted }, 3, now);
    book.complete(OTHER, { task: id, attempt: 2, ok: true, result: other }, 3, now);
    expect(book.get(id)?.result).toBe(accepted);
    expect((await results.value()).get(`pipelines/${root.id}/fib/2`)).toBe(98);
    expect(await evaluate()).toBe(true);
    expect(await reduceInput()).toBe('[1,1,2]');
  });

  it("counts a leaf of an older version, without a key, as its author's", async () => {
    const { write, results, root, complete, evaluate, reduceInput } = await setup();
    await write('start', [1, 2, 3]);
    await evaluate();
    for (const [i, value] of [1, 1, 2].entries()) {
      const path = `pipelines/${root.id}/fib/${i}`;
      await results.append({ path, action: 'set', value, author: WORKER });
      // Another node's leaf does not count, keyed or not.
      await results.append({ path, action: 'set', value: 99, author: OTHER });
      complete(`fib/${i}`, `bafkreiolder${i}`);
    }
    expect(await evaluate()).toBe(true);
    expect(await reduceInput()).toBe('[1,1,2]');
  });

  it("keeps each room's fired stages when it evaluates another room", async () => {
    // One node in two mesh rooms, a pipeline running in each.
    const shared = node();
    const a = await setup(shared, '!a:localhost' as RoomId);
    const b = await setup(shared, '!b:localhost' as RoomId);
    for (const r of [a, b]) await r.write('start', [1, 2, 3]);
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
