import { CID } from 'multiformats/cid';
import { type MeshError, toMeshError } from '../errors/index.ts';
import type { RoomId } from '../ids.ts';
import type { RoomEvent } from '../matrix/types.ts';
import {
  type Assignment,
  assignSchema,
  type Completion,
  EVENT,
  type InlineBlock,
} from '../protocol/events.ts';
import { getTask, type Task } from '../queue/task.ts';
import type { NodeContext } from './context.ts';
import { resultBlocks } from './result-blocks.ts';
import { runTask } from './run-task.ts';
import { Serial } from './serial.ts';

/**
 * The worker side of the Manager protocol: takes assignments addressed to this node from a
 * node of the mesh, runs them off the sync loop, and reports each completion to the room.
 */
export class WorkerRole {
  readonly #ctx: NodeContext;
  readonly #running = new Set<string>();
  /** Tasks run one after another, off the sync loop (the sandbox bounds each one). */
  readonly #jobs: Serial;
  #highestTerm = 0;

  constructor(ctx: NodeContext) {
    this.#ctx = ctx;
    this.#jobs = new Serial(ctx.log, 'task');
  }

  /** Tasks this node is running now. */
  get load(): number {
    return this.#running.size;
  }

  /** Resolves when every task taken so far has finished. */
  idle(): Promise<void> {
    return this.#jobs.idle();
  }

  async onAssign(roomId: RoomId, event: RoomEvent): Promise<void> {
    const { roster, admission, log, self } = this.#ctx;
    if (!admission.isNode(roster.view(roomId), event.sender)) {
      log.warn('assignment from a sender that is not a node, ignored', {
        roomId,
        sender: event.sender,
      });
      return;
    }
    const parsed = assignSchema.safeParse(event.content);
    if (!parsed.success) {
      log.warn('invalid assign event dropped', {
        roomId,
        sender: event.sender,
        id: event.event_id,
      });
      return;
    }
    const { term, assignments } = parsed.data;
    if (term < this.#highestTerm) {
      log.warn('assignment from an old term rejected', { term, highest: this.#highestTerm });
      return;
    }
    this.#highestTerm = term;
    for (const a of assignments) if (a.worker === self) await this.#accept(roomId, a);
  }

  async #accept(roomId: RoomId, a: Assignment): Promise<void> {
    const key = `${a.task}/${a.attempt}`;
    if (this.#running.has(key)) return;
    let task: Task;
    try {
      // The store verifies the block against the task's CID before keeping it.
      await this.#ctx.store.putBlock(CID.parse(a.task), Buffer.from(a.block, 'base64'));
      task = await getTask(this.#ctx.store, CID.parse(a.task));
    } catch (err) {
      this.#ctx.log.warn('assignment with a bad task block dropped', { task: a.task, err });
      return;
    }
    this.#running.add(key);
    this.#jobs.push(() => this.#execute(roomId, a, task).finally(() => this.#running.delete(key)));
  }

  async #execute(roomId: RoomId, a: Assignment, task: Task): Promise<void> {
    const ctx = this.#ctx;
    const started = Date.now();
    let completion: Completion;
    let blocks: InlineBlock[] = [];
    try {
      const result = await runTask(ctx, task);
      blocks = await resultBlocks(ctx.store, result);
      completion = {
        task: a.task,
        attempt: a.attempt,
        ok: true,
        result: result.toString(),
        wallMs: Date.now() - started,
      };
      await ctx.ledgers
        .get(roomId)
        .complete(CID.parse(a.task), { worker: ctx.self, ok: true, result });
    } catch (err) {
      const e: MeshError = toMeshError(err);
      ctx.log.warn('task failed', { task: a.task, code: e.code, errorId: e.id, err });
      const error = { code: e.code, message: e.userMessage.slice(0, 2_000) };
      completion = {
        task: a.task,
        attempt: a.attempt,
        ok: false,
        error,
        wallMs: Date.now() - started,
      };
      await ctx.ledgers
        .get(roomId)
        .complete(CID.parse(a.task), { worker: ctx.self, ok: false, error });
    }
    await ctx.client
      .send(roomId, EVENT.complete, { completions: [completion], blocks }, ctx.signal)
      .catch((err: unknown) =>
        ctx.log.error('could not report a completion', { task: a.task, err }),
      );
  }
}
