/**
 * Split tasks on every node: a worker's split plan becomes the parts in the book (each node
 * expands the same plan into the same part tasks), and the acting coordinator joins the
 * parts' results into the parent's once every part is final.
 */
import { CID } from 'multiformats/cid';
import { joinable, unexpanded } from '../coordinator/book-views.ts';
import { taskInfo } from '../coordinator/task-block.ts';
import type { TaskRecord } from '../coordinator/task-record.ts';
import { parsePlan, partTasks, type SplitPlan } from '../queue/split.ts';
import { decodeTranscript, encodeTranscript, joinParts } from '../whisper/transcript.ts';
import type { NodeContext } from './context.ts';
import type { MeshRoom } from './mesh-room.ts';
import { recordTask } from './record-task.ts';

const FETCH_MS = 15_000;

async function readPlan(ctx: NodeContext, rec: TaskRecord, offline: boolean): Promise<SplitPlan> {
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(FETCH_MS)]);
  return parsePlan(await ctx.store.getDag(CID.parse(rec.result ?? ''), { signal, offline }));
}

/**
 * Accepts the parts of a split task into the room's book. `offline`: only if the plan's block
 * is here already (it usually came inline with the completion). Returns whether it did.
 */
export async function expandSplit(
  ctx: NodeContext,
  room: MeshRoom,
  rec: TaskRecord,
  offline: boolean,
): Promise<boolean> {
  try {
    const plan = await readPlan(ctx, rec, offline);
    const parts = partTasks(rec.id, await recordTask(ctx, rec), plan);
    const now = Date.now();
    for (const p of parts) {
      room.book.accept(p.id, Buffer.from(p.block).toString('base64'), taskInfo(p.task), now);
    }
    room.book.setParts(
      rec.id,
      parts.map((p) => p.id),
    );
    room.changed();
    return true;
  } catch (err) {
    if (!offline) ctx.log.warn('could not read a split plan', { task: rec.id, err });
    return false;
  }
}

/**
 * The outcome of a split task whose parts are all final: its parts' results joined, or the
 * first part's failure. Stored and recorded in the book; the answer goes out as for any task.
 */
export async function joinSplit(ctx: NodeContext, room: MeshRoom, rec: TaskRecord): Promise<void> {
  const parts = (rec.parts ?? []).map((id) => room.book.get(id));
  const now = Date.now();
  const failed = parts.findIndex((p) => p?.state !== 'done' || !p.result);
  if (failed >= 0) {
    const p = parts[failed];
    const why = p?.error?.message ?? 'it was lost';
    const error = {
      code: p?.error?.code ?? 'PART_FAILED',
      message: `part ${failed + 1} of ${parts.length} failed: ${why}`,
    };
    room.book.finishSplit(rec.id, { error }, now);
    room.changed();
    return;
  }
  const plan = await readPlan(ctx, rec, false);
  if (plan.join !== 'transcript') throw new Error(`unknown join ${String(plan.join)}`);
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(FETCH_MS)]);
  const maxBytes = ctx.config.limits.maxInputBytes;
  const transcripts = [];
  for (const p of parts) {
    const bytes = await ctx.store.cat(CID.parse(p?.result ?? ''), { signal, maxBytes });
    const t = decodeTranscript(bytes);
    if (!t) throw new Error(`part ${p?.id} did not give a transcript`);
    transcripts.push(t);
  }
  const result = await ctx.store.addBytes(encodeTranscript(joinParts(transcripts)));
  room.book.finishSplit(rec.id, { result: result.toString() }, Date.now());
  room.changed();
  const outcome = { worker: ctx.self, ok: true as const, result };
  await ctx.ledgers.get(room.id).complete(CID.parse(rec.id), outcome);
}

/** How often reading a plan or joining the parts is tried before the split task fails. */
const MAX_TRIES = 3;

/**
 * The acting coordinator's split work: plans not read yet are read (their block may come
 * later than the completion), and parents whose parts are all final are joined. Each job runs
 * once at a time; one that keeps failing fails its task with the reason instead of retrying
 * at every pump.
 */
export class SplitJobs {
  readonly #ctx: NodeContext;
  readonly #running = new Set<string>();
  readonly #failures = new Map<string, number>();

  constructor(ctx: NodeContext) {
    this.#ctx = ctx;
  }

  run(room: MeshRoom, poke: () => void): void {
    const jobs = [
      ...unexpanded(room.book).map((rec) => ['expand', rec] as const),
      ...joinable(room.book).map((rec) => ['join', rec] as const),
    ];
    for (const [what, rec] of jobs) {
      const key = `${room.id}/${what}/${rec.id}`;
      if (this.#running.has(key)) continue;
      this.#running.add(key);
      const job =
        what === 'expand'
          ? expandSplit(this.#ctx, room, rec, false).then((ok) => {
              if (!ok) throw new Error('the split plan could not be read');
            })
          : joinSplit(this.#ctx, room, rec);
      void job
        .then(() => this.#failures.delete(key))
        .catch((err: unknown) => this.#failed(room, rec, what, key, err))
        .finally(() => {
          this.#running.delete(key);
          poke();
        });
    }
  }

  #failed(room: MeshRoom, rec: TaskRecord, what: string, key: string, err: unknown): void {
    const tries = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, tries);
    this.#ctx.log.warn(`could not ${what} a split task`, { task: rec.id, tries, err });
    if (tries < MAX_TRIES) return;
    this.#failures.delete(key);
    const why =
      what === 'expand' ? 'its split plan could not be read' : 'its parts could not be joined';
    const message = `${why} (${(err as Error)?.message ?? String(err)})`;
    room.book.finishSplit(rec.id, { error: { code: 'SPLIT_FAILED', message } }, Date.now());
    room.changed();
  }
}
