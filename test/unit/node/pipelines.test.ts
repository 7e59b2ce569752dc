/**
 * The Evaluator on a node that heard the pipeline root's completion before the Results head
 * that carries its output: it must not fire a stage until it sees the stage `start`. The
 * shipped fibsum pipeline's `sum` condition, len('fib') == len('start'), holds at 0 == 0 on an
 * empty view; firing it then answered the sum of nothing (a full run of the e2e pipeline
 * tests caught it once, as the reply `0`). A real Results GOHO on a memory store; the room
 * and the node context are the parts of them the Evaluator reads.
 */
import { readFileSync } from 'node:fs';
import { CID } from 'multiformats/cid';
import { describe, expect, it } from 'vitest';
import { readTaskBlock, taskInfo } from '../../../src/coordinator/task-block.ts';
import { TaskBook } from '../../../src/coordinator/task-book.ts';
import { parsePipeline } from '../../../src/evaluator/pipeline.ts';
import { stagePath } from '../../../src/evaluator/results-view.ts';
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
  return { root, results, book, store, evaluate, stages };
}

describe('the Evaluator on a node', () => {
  it('fires no stage before the root output is in its Results view', async () => {
    const { evaluate, stages } = await setup();
    expect(await evaluate()).toBe(false);
    expect(stages()).toEqual([]);
  });

  it('fires the map stage once the root output arrives, and the reduce only after every part', async () => {
    const { root, results, book, store, evaluate, stages } = await setup();
    const put = (path: string, value: unknown) =>
      results.append({ path, action: 'set', value: value as number, author: WORKER });
    await put(stagePath(root.id, 'start'), [1, 2, 3]);
    expect(await evaluate()).toBe(true);
    expect(stages()).toEqual(['fibsum-map', 'fibsum-map', 'fibsum-map']);

    // Two of three map outputs: len('fib') == len('start') does not hold yet.
    await put(stagePath(root.id, 'fib', 0), 1);
    await put(stagePath(root.id, 'fib', 1), 1);
    expect(await evaluate()).toBe(false);
    await put(stagePath(root.id, 'fib', 2), 2);
    expect(await evaluate()).toBe(true);
    const reduce = book.all().filter((r) => r.parent === root.id && r.engine === 'fibsum-reduce');
    expect(reduce).toHaveLength(1);
    // It sums every part's output.
    const task = readTaskBlock(reduce[0]?.id as string, reduce[0]?.block as string);
    expect(new TextDecoder().decode(await store.cat(task.input))).toBe('[1,1,2]');
  });

  it("keeps each room's fired stages when it evaluates another room", async () => {
    // One node in two mesh rooms, a pipeline running in each.
    const shared = node();
    const a = await setup(shared, '!a:localhost' as RoomId);
    const b = await setup(shared, '!b:localhost' as RoomId);
    for (const r of [a, b]) {
      await r.results.append({
        path: stagePath(r.root.id, 'start'),
        action: 'set',
        value: [1, 2, 3],
        author: WORKER,
      });
    }
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
