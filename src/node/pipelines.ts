/**
 * The Evaluator on every node: at each new head of the room's Results GOHO, each task
 * completion (and whenever the coordinator looks at the room), the conditions of every
 * running pipeline are evaluated over its results so far. A task's output counts once the
 * book holds its completion, and is read from the result the book accepted (by its CID, which
 * no node can forge), not from the leaves at its path in the Results GOHO: a task that ran
 * twice writes its path twice, and a leaf's author is the word of whoever wrote it. A stage
 * whose condition holds derives its tasks — the same CIDs on every node — into the book; the
 * acting coordinator also enqueues them in the Queue GOHO, and finishes the pipeline with its
 * result stage's output, or with the reason it failed: a failed task, a condition that cannot
 * be evaluated, or a result stage that can no longer fire (pipeline-stuck.ts).
 */
import { CID } from 'multiformats/cid';
import { pipelines } from '../coordinator/book-views.ts';
import { readTaskBlock, taskInfo } from '../coordinator/task-block.ts';
import { FINAL, type TaskRecord } from '../coordinator/task-record.ts';
import { toMeshError } from '../errors/index.ts';
import { deriveTasks, stageElements } from '../evaluator/derive.ts';
import { type CheckedStage, checkPipeline, START } from '../evaluator/pipeline.ts';
import { pipelineScope } from '../evaluator/reads.ts';
import { ResultsView, stageKey } from '../evaluator/results-view.ts';
import type { StageValue } from '../evaluator/stage-output.ts';
import type { RoomId } from '../ids.ts';
import type { Task } from '../queue/task.ts';
import type { NodeContext } from './context.ts';
import type { MeshRoom } from './mesh-room.ts';
import { PipelineStuckError, stuckStages } from './pipeline-stuck.ts';
import { recordTask } from './record-task.ts';
import { StageOutputs } from './stage-outputs.ts';
import { withdraw } from './withdraw.ts';

interface Running {
  task: Task;
  stages: CheckedStage[];
  /** Stages fired so far, with their tasks: a stage fires once. */
  fired: Map<string, string[]>;
  /** The tasks fired so far, by the path of their output (`stageKey`). */
  paths: Map<string, string>;
  /** Outputs read so far, by path, with the result they were read from. */
  outputs: Map<string, { result: string; value: StageValue }>;
}

/** Evaluations in a row a pipeline may fail for a passing reason before it ends with it. */
const PASSING_TRIES = 5;

export class PipelineJobs {
  readonly #ctx: NodeContext;
  readonly #views = new Map<RoomId, ResultsView>();
  /** Per room, its running pipelines by task id: each room's book knows only its own. */
  readonly #running = new Map<RoomId, Map<string, Running>>();
  /** Per room, the evaluation running (with its coalesced re-run). */
  readonly #busy = new Map<RoomId, Promise<void>>();
  readonly #again = new Set<RoomId>();
  /** Per room, the room and what its last evaluation was to tell: an output's arrival reruns it. */
  readonly #last = new Map<RoomId, { room: MeshRoom; poke: () => void }>();
  readonly #outputsRead: StageOutputs;
  /** Pipelines whose last steps failed for a passing reason: how many in a row. */
  readonly #passing = new Map<string, number>();

  constructor(ctx: NodeContext) {
    this.#ctx = ctx;
    this.#outputsRead = new StageOutputs(ctx, (roomId) => {
      const last = this.#last.get(roomId);
      if (last) void this.run(last.room, last.poke);
    });
  }

  /**
   * A room this node left: nothing of its old MeshRoom is kept (a stage output that arrives
   * later must not run an evaluation on that room's old book). Invited back, the node starts
   * the room's pipelines again from its new book.
   */
  forget(room: RoomId): void {
    for (const map of [this.#views, this.#running, this.#busy, this.#last]) map.delete(room);
    this.#again.delete(room);
  }

  /**
   * Evaluates the room's pipelines (coalesced: one evaluation at a time per room; a call
   * while one runs makes it run once more). Resolves when the evaluation this call asked for
   * is over; never rejects. `poke` is told when a stage fired or a pipeline ended.
   */
  run(room: MeshRoom, poke: () => void): Promise<void> {
    if (pipelines(room.book).length === 0) return Promise.resolve();
    this.#last.set(room.id, { room, poke });
    const running = this.#busy.get(room.id);
    if (running) {
      this.#again.add(room.id);
      return running;
    }
    const evaluation = this.#evaluate(room)
      .then((changed) => {
        if (changed) poke();
      })
      .catch((err: unknown) => {
        if (!this.#ctx.signal.aborted) this.#ctx.log.warn('could not evaluate pipelines', { err });
      })
      .finally(() => {
        this.#busy.delete(room.id);
        if (this.#again.delete(room.id)) return this.run(room, poke);
      });
    this.#busy.set(room.id, evaluation);
    return evaluation;
  }

  async #evaluate(room: MeshRoom): Promise<boolean> {
    const view = this.#view(room.id);
    await view.update({ signal: this.#ctx.signal });
    let changed = false;
    for (const rec of pipelines(room.book)) {
      try {
        changed = (await this.#step(room, rec, view)) || changed;
        this.#passing.delete(rec.id);
      } catch (err) {
        changed = this.#fail(room, rec, err) || changed;
      }
    }
    const running = this.#runningIn(room.id);
    for (const [id] of running) {
      const rec = room.book.get(id);
      if (!rec || FINAL.has(rec.state)) running.delete(id);
    }
    return changed;
  }

  #view(room: RoomId): ResultsView {
    let v = this.#views.get(room);
    if (!v) {
      v = new ResultsView(this.#ctx.ledgers.get(room).resultsGoho, this.#ctx.store);
      this.#views.set(room, v);
    }
    return v;
  }

  /** One pipeline: fires the stages whose conditions hold, then finishes it if it can. */
  async #step(room: MeshRoom, rec: TaskRecord, view: ResultsView): Promise<boolean> {
    const p = await this.#pipeline(room, rec);
    const results = view.all;
    const origin = this.#resultsOrigin(room);
    // Read again after a stage fires: a later stage may read the outputs of its tasks.
    const scopeNow = async () => {
      const local = await this.#outputs(room, rec, p);
      const byOrigin = (o: string) => (o === origin ? results : undefined);
      return { local, scope: pipelineScope({ local, byOrigin }, { task: rec.id }) };
    };
    let { local, scope } = await scopeNow();
    // Until the root's own output (the stage `start`) can be read, every stage would read an
    // empty pipeline, where a condition such as len('fib') == len('start') holds at 0 == 0
    // and derives tasks from nothing, which no other node derives.
    if (!local.has(START)) return false;
    let changed = false;
    for (const stage of p.stages) {
      if (changed) ({ local, scope } = await scopeNow());
      if (p.fired.has(stage.stage) || !stage.whenCondition.holds(scope)) continue;
      const value = stage.inputCondition.evaluate(scope);
      const elements = stageElements(stage, value, this.#ctx.config.evaluator.maxFanOut);
      const derived = await deriveTasks(
        this.#ctx.store,
        { id: rec.id, task: p.task },
        stage,
        elements,
        {
          signal: this.#ctx.signal,
        },
      );
      const ids = derived.map((d) => d.id);
      // Into the Queue GOHO first: an enqueue that fails leaves the stage unfired, and the
      // next evaluation derives the same tasks and enqueues them again (the GOHO keeps one).
      if (room.election.acting()) {
        const ledger = this.#ctx.ledgers.get(room.id);
        for (const id of ids) await ledger.enqueue(CID.parse(id));
      }
      const now = Date.now();
      for (const d of derived) {
        room.book.accept(d.id, Buffer.from(d.block).toString('base64'), taskInfo(d.task), now);
      }
      room.book.addParts(rec.id, ids);
      p.fired.set(stage.stage, ids);
      for (const d of derived) {
        if (d.task.stage) p.paths.set(stageKey(d.task.stage.name, d.task.stage.index), d.id);
      }
      changed = true;
      this.#ctx.log.info('pipeline stage fired', {
        task: rec.id,
        stage: stage.stage,
        tasks: ids.length,
      });
    }
    if (changed) room.changed();
    if (await this.#finish(room, rec, p)) return true;
    // A stage that fired may have made another fire: only an evaluation that fired nothing
    // can tell that nothing will.
    return changed || this.#endIfStuck(room, rec, p, local);
  }

  /** The coordinator ends a pipeline whose result stage can no longer fire, with the reason. */
  #endIfStuck(room: MeshRoom, rec: TaskRecord, p: Running, read: Map<string, unknown>): boolean {
    if (!room.election.acting()) return false;
    // With any task of it another node derived: its evaluation may have fired more than ours.
    const elsewhere = room.book.all().filter((r) => r.parent === rec.id);
    const waiting = stuckStages({
      ...{ stages: p.stages, result: p.task.pipeline?.result ?? '', fired: p.fired },
      ...{ parts: [...(rec.parts ?? []), ...elsewhere.map((r) => r.id)], paths: p.paths, read },
      state: (id) => room.book.get(id)?.state,
    });
    if (!waiting) return false;
    const e = new PipelineStuckError(waiting);
    this.#ctx.log.warn('pipeline stuck', { task: rec.id, code: e.code, errorId: e.id, err: e });
    this.#end(room, rec, { code: e.code, message: e.userMessage });
    return true;
  }

  /** The coordinator ends a pipeline: a part failed, or its result stage is done. */
  async #finish(room: MeshRoom, rec: TaskRecord, p: Running): Promise<boolean> {
    if (!room.election.acting()) return false;
    const failed = (rec.parts ?? [])
      .map((id) => room.book.get(id))
      .find((r) => r && r.state !== 'done' && FINAL.has(r.state));
    if (failed) {
      const stage = this.#stageOf(p, failed.id);
      const why = failed.error?.message ?? failed.state;
      const error = {
        code: failed.error?.code ?? 'PART_FAILED',
        message: `stage "${stage}" failed: ${why}`,
      };
      this.#end(room, rec, error);
      return true;
    }
    const last = p.fired.get(p.task.pipeline?.result ?? '')?.[0];
    const done = last ? room.book.get(last) : undefined;
    if (done?.state !== 'done' || !done.result) return false;
    room.book.finishSplit(rec.id, { result: done.result }, Date.now());
    room.changed();
    const outcome = { worker: this.#ctx.self, ok: true as const, result: CID.parse(done.result) };
    await this.#ctx.ledgers.get(room.id).complete(CID.parse(rec.id), outcome);
    return true;
  }

  /** A condition that cannot be evaluated ends its pipeline with the reason. */
  #fail(room: MeshRoom, rec: TaskRecord, err: unknown): boolean {
    // A node that stops leaves its pipelines as they are: they go on after its restart.
    if (this.#ctx.signal.aborted) return false;
    const e = toMeshError(err);
    // A block not fetched in time, say: the next evaluation (a tick away) tries again, a few
    // times, before the pipeline ends with it.
    const tries = e.retryable ? (this.#passing.get(rec.id) ?? 0) + 1 : PASSING_TRIES;
    if (tries < PASSING_TRIES) {
      this.#passing.set(rec.id, tries);
      this.#ctx.log.warn('pipeline step failed; tried again', { task: rec.id, code: e.code, err });
      return false;
    }
    this.#passing.delete(rec.id);
    this.#ctx.log.warn('pipeline failed', { task: rec.id, code: e.code, errorId: e.id, err });
    if (!room.election.acting()) return false;
    this.#end(room, rec, { code: e.code, message: e.userMessage });
    return true;
  }

  /**
   * A failed pipeline: what it derived and has not run yet is withdrawn, in every node's book
   * (a later coordinator must not assign it).
   */
  #end(room: MeshRoom, rec: TaskRecord, error: { code: string; message: string }): void {
    const ctx = this.#ctx;
    // Its tasks another node derived are linked to it, and may not be among its parts here.
    const linked = room.book.all().filter((r) => r.parent === rec.id);
    const tasks = [...new Set([...(rec.parts ?? []), ...linked.map((r) => r.id)])];
    // The book changes at once; the room's event follows.
    void withdraw(ctx, room, tasks, `the pipeline failed: ${error.message}`).catch((err: unknown) =>
      ctx.log.warn('could not withdraw a failed pipeline', { task: rec.id, err }),
    );
    room.book.finishSplit(rec.id, { error }, Date.now());
    room.changed();
  }

  /**
   * The pipeline's outputs so far, by path: the root's (`start`) and its finished tasks', each
   * read from the result the book accepted (stage-outputs.ts). One that is not here yet is left
   * out until it is; one that cannot be had at all ends the pipeline (it throws).
   */
  async #outputs(room: MeshRoom, rec: TaskRecord, p: Running): Promise<Map<string, unknown>> {
    const out = new Map<string, unknown>();
    const take = async (path: string, task: TaskRecord | undefined) => {
      const result = task?.result;
      if (result === undefined) return;
      const known = p.outputs.get(path);
      if (known?.result === result) {
        out.set(path, known.value);
        return;
      }
      const value = await this.#outputsRead.read(room.id, result, task?.resultBytes);
      if (value === undefined) return;
      p.outputs.set(path, { result, value });
      out.set(path, value);
    };
    await take(START, rec);
    for (const [path, id] of p.paths) {
      const task = room.book.get(id);
      if (task?.state === 'done') await take(path, task);
    }
    return out;
  }

  #stageOf(p: Running, task: string): string {
    for (const [stage, ids] of p.fired) if (ids.includes(task)) return stage;
    return 'unknown';
  }

  #resultsOrigin(room: MeshRoom): string {
    return this.#ctx.ledgers.get(room.id).resultsGoho.origin().toString();
  }

  #runningIn(room: RoomId): Map<string, Running> {
    let running = this.#running.get(room);
    if (!running) {
      running = new Map();
      this.#running.set(room, running);
    }
    return running;
  }

  async #pipeline(room: MeshRoom, rec: TaskRecord): Promise<Running> {
    const known = this.#runningIn(room.id).get(rec.id);
    if (known) return known;
    const task = await recordTask(this.#ctx, rec);
    if (!task.pipeline) throw new Error(`task ${rec.id} carries no pipeline`);
    const stages = checkPipeline(task.pipeline);
    const running: Running = {
      task,
      stages,
      fired: new Map(),
      paths: new Map(),
      outputs: new Map(),
    };
    firedBefore(room, rec, running);
    this.#runningIn(room.id).set(rec.id, running);
    return running;
  }
}

/**
 * The stages that fired before this Evaluator started (the node restarted), from the tasks the
 * book (kept on disk) names as the pipeline's. A stage fires once, when its condition first
 * holds, and a condition that held once need not hold again (`!exist('c')` once `c` is in):
 * evaluated afresh, such a stage would not count as fired, and a pipeline whose result stage
 * it is would end stuck with that stage's task done.
 */
function firedBefore(room: MeshRoom, rec: TaskRecord, running: Running): void {
  for (const id of rec.parts ?? []) {
    const block = room.book.get(id)?.block;
    let stage: Task['stage'];
    try {
      stage = block === undefined ? undefined : readTaskBlock(id, block).stage;
    } catch {
      stage = undefined; // an unreadable block: that stage may fire again, as before
    }
    if (!stage) continue;
    running.fired.set(stage.name, [...(running.fired.get(stage.name) ?? []), id]);
    running.paths.set(stageKey(stage.name, stage.index), id);
  }
}
