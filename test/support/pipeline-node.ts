/**
 * The parts of a node and of a room that the Evaluator (PipelineJobs) reads, for its unit
 * tests: a memory store with a real Results GOHO per room, and rooms whose pipeline root ran
 * and split, its output (the stage `start`) in the node's store or not yet.
 */
import { readFileSync } from 'node:fs';
import { CID } from 'multiformats/cid';
import { taskInfo } from '../../src/coordinator/task-block.ts';
import { TaskBook } from '../../src/coordinator/task-book.ts';
import { parsePipeline } from '../../src/evaluator/pipeline.ts';
import type { RoomId, UserId } from '../../src/ids.ts';
import { createGoho, type Goho } from '../../src/lattice/index.ts';
import { silentLogger } from '../../src/log/logger.ts';
import type { NodeContext } from '../../src/node/context.ts';
import type { MeshRoom } from '../../src/node/mesh-room.ts';
import { PipelineJobs } from '../../src/node/pipelines.ts';
import { encodeTask } from '../../src/queue/task.ts';
import { createMemoryStore } from '../../src/store/memory.ts';
import type { Store } from '../../src/store/types.ts';

export const PIPELINE_ROOM = '!mesh:localhost' as RoomId;
export const NODE = '@node:localhost' as UserId;
/** The node that ran the root (and, in these tests, every task). */
export const WORKER = '@worker:localhost';
export const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
/** The shipped fibsum pipeline, as `!run fibsum` starts it. */
export const FIBSUM = JSON.parse(
  readFileSync(new URL('../../engines/fibsum/pipeline.json', import.meta.url), 'utf8'),
);
const FIBSUM_ENGINES = ['fibsum-split', 'fibsum-map', 'fibsum-reduce'];

export interface PipelineNode {
  store: Store;
  ctx: NodeContext;
  jobs: PipelineJobs;
  /** Each room's Results GOHO. */
  gohos: Map<RoomId, Goho>;
}

/** A node's store and Evaluator; stage outputs are looked for `fetchTimeoutMs` (300 ms). */
export function pipelineNode(opts: { fetchTimeoutMs?: number } = {}): PipelineNode {
  const store = createMemoryStore();
  const gohos = new Map<RoomId, Goho>();
  const ledger = (room: RoomId) => ({
    resultsGoho: gohos.get(room),
    enqueue: async () => {},
    complete: async () => {},
  });
  const ctx = {
    store,
    ledgers: { get: ledger },
    config: {
      evaluator: { maxFanOut: 100 },
      limits: { fetchTimeoutMs: opts.fetchTimeoutMs ?? 300 },
    },
    signal: new AbortController().signal,
    log: silentLogger,
    self: NODE,
  } as unknown as NodeContext;
  return { store, ctx, gohos, jobs: new PipelineJobs(ctx) };
}

export interface SplitRootOptions {
  room?: RoomId;
  /** The pipeline (fibsum by default); a function gets the room's Results GOHO origin. */
  definition?: object | ((resultsOrigin: string) => object);
  /** The engines it names (fibsum's by default): each is the same package here. */
  engines?: string[];
  /** The root's output, the stage `start`. Default [1, 2, 3]. */
  output?: unknown;
  /** Whether that output is in the node's store (default), or only in `elsewhere`. */
  outputHere?: boolean;
  /** Whether the node acts as the room's coordinator. Default false. */
  acting?: boolean;
}

/** A room on `on` whose pipeline's root ran and split: its completion is in the room's book. */
export async function splitRoot(on: PipelineNode, o: SplitRootOptions = {}) {
  const roomId = o.room ?? PIPELINE_ROOM;
  const { store } = on;
  const results = await createGoho(store, { name: `results of ${roomId}` });
  on.gohos.set(roomId, results);
  const engine = (await store.addBytes(json('engine'))).toString();
  const names = o.engines ?? FIBSUM_ENGINES;
  const given = o.definition ?? FIBSUM;
  const definition = typeof given === 'function' ? given(results.origin().toString()) : given;
  const root = encodeTask({
    type: 'task',
    engine: { name: names[0] as string, cid: CID.parse(engine) },
    input: await store.addBytes(json({ n: 3 })),
    params: {},
    submitter: '@friend:localhost',
    room: roomId,
    request: '$run',
    pipeline: parsePipeline({
      ...definition,
      engines: Object.fromEntries(names.map((n) => [n, engine])),
    }),
  });
  const book = new TaskBook();
  const now = Date.now();
  book.accept(root.id, Buffer.from(root.block).toString('base64'), taskInfo(root.task), now);
  book.assign(root.id, { worker: WORKER, attempt: 1, term: 1 }, 60_000, now);
  const elsewhere = createMemoryStore();
  const output = await (o.outputHere === false ? elsewhere : store).addBytes(
    json(o.output ?? [1, 2, 3]),
  );
  const result = output.toString();
  book.complete(WORKER, { task: root.id, attempt: 1, ok: true, result, split: true }, 3, now);
  const room = {
    id: roomId,
    book,
    election: { acting: () => o.acting ?? false },
    changed: () => {},
  } as unknown as MeshRoom;
  return { root, book, room, results, elsewhere, output };
}
