/**
 * A node that left a room keeps nothing of the room's old MeshRoom in its pipeline jobs: a
 * stage output whose fetch ends after the node left must not run an evaluation on the old
 * room's book (it would derive the next stage's tasks there, for nobody).
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

it('runs no evaluation of a room the node left when a stage output arrives after', async () => {
  const store = createMemoryStore();
  const results = await createGoho(store, { name: 'results' });
  const ctx = {
    store,
    ledgers: { get: () => ({ resultsGoho: results }) },
    config: { evaluator: { maxFanOut: 100 }, limits: { fetchTimeoutMs: 5_000 } },
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
  // The split stage's output is on another node: this one fetches it in the background.
  const bytes = new TextEncoder().encode('[1,2,3]');
  const out = await createMemoryStore().addBytes(bytes);
  let open = () => {};
  const gate = new Promise<void>((r) => {
    open = r;
  });
  store.addFetcher({
    name: 'peer',
    fetch: async (cid) => {
      await gate;
      if (!cid.equals(out)) throw new Error('not here');
      return bytes;
    },
  });
  const book = new TaskBook();
  const now = Date.now();
  book.accept(root.id, Buffer.from(root.block).toString('base64'), taskInfo(root.task), now);
  book.assign(root.id, { worker: WORKER, attempt: 1, term: 1 }, 60_000, now);
  const result = out.toString();
  book.complete(WORKER, { task: root.id, attempt: 1, ok: true, result, split: true }, 3, now);
  const room = {
    id: ROOM,
    book,
    election: { acting: () => false },
    changed: () => {},
  } as unknown as MeshRoom;
  let pokes = 0;
  await jobs.run(room, () => pokes++);
  expect(book.queued()).toEqual([]);

  jobs.forget(ROOM);
  open();
  await new Promise((r) => setTimeout(r, 300));
  expect(book.queued()).toEqual([]);
  expect(pokes).toBe(0);
});
