/**
 * A pipeline cancelled while its Evaluator derives a stage's tasks (deriveTasks awaits
 * the store for each input) still gets that stage's tasks into the book, queued for workers,
 * under a cancelled parent: the cancel named only the parts known when it came.
 */
import { readFileSync } from 'node:fs';
import { CID } from 'multiformats/cid';
import { expect, it } from 'vitest';
import { taskInfo } from '../../../src/coordinator/task-block.ts';
import { TaskBook } from '../../../src/coordinator/task-book.ts';
import { parsePipeline } from '../../../src/evaluator/pipeline.ts';
import type { RoomId, UserId } from '../../../src/ids.ts';
import { createGoho } from '../../../src/lattice/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { NodeContext } from '../../../src/node/context.ts';
import type { MeshRoom } from '../../../src/node/mesh-room.ts';
import { PipelineJobs } from '../../../src/node/pipelines.ts';
import { encodeTask } from '../../../src/queue/task.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';

const ROOM = '!mesh:localhost' as RoomId;
const WORKER = '@worker:localhost';
const FIBSUM = JSON.parse(
  readFileSync(new URL('../../../engines/fibsum/pipeline.json', import.meta.url), 'utf8'),
);

it('a pipeline cancelled while a stage is being derived leaves nothing queued', async () => {
  const store = createMemoryStore();
  const results = await createGoho(store, { name: 'results' });
  const ctx = {
    store,
    ledgers: { get: () => ({ resultsGoho: results }) },
    config: { evaluator: { maxFanOut: 100 }, limits: { fetchTimeoutMs: 300 } },
    signal: new AbortController().signal,
    log: silentLogger,
    self: '@node:localhost' as UserId,
  } as unknown as NodeContext;
  const jobs = new PipelineJobs(ctx);
  const engine = (await store.addBytes(new TextEncoder().encode('engine'))).toString();
  const engines = { 'fibsum-split': engine, 'fibsum-map': engine, 'fibsum-reduce': engine };
  const root = encodeTask({
    type: 'task',
    engine: { name: 'fibsum-split', cid: CID.parse(engine) },
    input: await store.addBytes(new TextEncoder().encode('{"n":3}')),
    params: {},
    submitter: '@friend:localhost',
    room: ROOM,
    request: '$run',
    pipeline: parsePipeline({ ...FIBSUM, engines }),
  });
  const book = new TaskBook();
  const now = Date.now();
  book.accept(root.id, Buffer.from(root.block).toString('base64'), taskInfo(root.task), now);
  book.assign(root.id, { worker: WORKER, attempt: 1, term: 1 }, 60_000, now);
  const out = (await store.addBytes(new TextEncoder().encode('[1,2,3]'))).toString();
  book.complete(WORKER, { task: root.id, attempt: 1, ok: true, result: out, split: true }, 3, now);
  const room = {
    id: ROOM,
    book,
    election: { acting: () => false },
    changed: () => {},
  } as unknown as MeshRoom;

  // The store is slow to take the map stage's inputs.
  let open!: () => void;
  const gate = new Promise<void>((r) => {
    open = r;
  });
  let storing!: () => void;
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
