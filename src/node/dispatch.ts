import { helpText, runUsage } from '../commands/commands.ts';
import { type Command, parseCommand } from '../commands/parse.ts';
import { taskInThread } from '../coordinator/book-views.ts';
import { taskInfo } from '../coordinator/task-block.ts';
import type { PendingRequest } from '../coordinator/task-record.ts';
import { BadInputError, describeForChat, NotAdmittedError, toMeshError } from '../errors/index.ts';
import type { EventId, UserId } from '../ids.ts';
import { NoFileError } from '../matrix/file-errors.ts';
import { keptRelation, repliedTo, threadOf } from '../matrix/reply.ts';
import type { NodeState } from '../protocol/events.ts';
import { MESH_EVENT, type ReplyTag } from '../protocol/manager.ts';
import { putTask, type Task } from '../queue/task.ts';
import { cidFromString } from '../store/index.ts';
import { sendReply } from './answers.ts';
import type { NodeContext } from './context.ts';
import type { MeshRoom } from './mesh-room.ts';
import { fixEngines, pipelineRequest } from './pipeline-request.ts';
import { ReplyLimit } from './reply-limit.ts';
import { engineRuntime, resolveEngine } from './resolve-engine.ts';
import { runInput } from './run-input.ts';
import { meshText, statusText } from './status-text.ts';
import { replicasOf, trustText } from './trust-text.ts';
import { withdraw } from './withdraw.ts';

/** Largest task block: it goes base64 into assignment events, which hold at most 64 KiB. */
const MAX_TASK_BYTES = 24 * 1024;

/** A `!run` taken: the task waits in the book until its record event is sent. */
export interface Accepted {
  task: string;
  request: string;
}

/** The answer to an edit that makes a message a command. */
const EDIT_NOT_RUN = 'an edited message is not run: post the command as a new message';

/**
 * The acting coordinator's answer to one command. Every command gets exactly one reply,
 * threaded to it; a `!run` that is accepted gets its reply when the task is final.
 */
export class Dispatch {
  readonly #ctx: NodeContext;
  readonly #limit: ReplyLimit;

  /** `now`: the clock of the reply limit (tests). */
  constructor(ctx: NodeContext, opts: { now?: () => number } = {}) {
    this.#ctx = ctx;
    this.#limit = new ReplyLimit(opts.now);
  }

  /**
   * Whether handling the request waits for a download, from a member who may run work (others
   * are refused at once): a `!run` whose input is the file of the message it replies to, or
   * one whose `pipeline=` names a definition to fetch.
   */
  needsDownload(room: MeshRoom, req: PendingRequest): boolean {
    if (req.edits !== undefined) return false;
    const ctx = this.#ctx;
    if (ctx.admission.refusal(ctx.roster.view(room.id), req.sender as UserId)) return false;
    const replies = repliedTo(req.relatesTo) !== undefined;
    const parsed = parseCommand(req.body, threadOf(req.relatesTo) !== undefined, replies);
    if (parsed.kind !== 'ok' || parsed.command.name !== 'run') return false;
    return parsed.command.cid === undefined || parsed.command.params.pipeline !== undefined;
  }

  /**
   * Handles a request; returns the accepted task of a `!run`, else null. It counts as handled
   * once its reply is out (a `!run`: once its task is in the book): a node that stops before
   * then, its book saved meanwhile, finds it waiting after its restart.
   */
  async handle(room: MeshRoom, req: PendingRequest): Promise<Accepted | null> {
    room.book.requests.take(req.id);
    try {
      return await this.#handle(room, req);
    } finally {
      if (!this.#ctx.signal.aborted) room.book.requests.handled(req.id);
      room.changed();
    }
  }

  async #handle(room: MeshRoom, req: PendingRequest): Promise<Accepted | null> {
    if (req.edits !== undefined) {
      const to = await this.#edited(room, req, req.edits);
      if (to) await this.#reply(room, to, EDIT_NOT_RUN, { request: req.id });
      return null;
    }
    const thread = threadOf(req.relatesTo);
    const parsed = parseCommand(
      req.body,
      thread !== undefined,
      repliedTo(req.relatesTo) !== undefined,
    );
    try {
      if (parsed.kind === 'none') return null;
      if (parsed.kind === 'usage') {
        await this.#reply(room, req, parsed.message);
        return null;
      }
      return await this.#run(room, req, parsed.command, thread);
    } catch (err) {
      // A reply to a message without a file is wrong usage, answered as the parser would.
      if (err instanceof NoFileError) {
        await this.#reply(room, req, runUsage(err.message)).catch(() => {});
        return null;
      }
      // One MeshError for both: the id in the reply is the one the log line carries.
      const e = toMeshError(err);
      this.#ctx.log.warn('command failed', { room: room.id, request: req.id, errorId: e.id, err });
      await this.#reply(room, req, describeForChat(e)).catch(() => {});
      return null;
    }
  }

  async #run(
    room: MeshRoom,
    req: PendingRequest,
    cmd: Command,
    thread: string | undefined,
  ): Promise<Accepted | null> {
    const ctx = this.#ctx;
    switch (cmd.name) {
      case 'help':
        await this.#reply(room, req, helpText(this.#engines(room)));
        return null;
      case 'mesh':
        await this.#reply(room, req, meshText(ctx, room));
        return null;
      case 'status':
      case 'cancel': {
        const rec = cmd.task
          ? room.book.get(cmd.task)
          : taskInThread(room.book, thread ?? '', req.sender);
        if (!rec) throw new BadInputError(`no task ${cmd.task ?? 'in this thread'} in this mesh`);
        if (cmd.name === 'status') {
          await this.#reply(room, req, statusText(rec, Date.now()));
          return null;
        }
        await this.#cancel(room, req, rec.id, rec.submitter);
        return null;
      }
      case 'trust':
        if (cmd.release) await this.#release(room, req, cmd.release);
        else await this.#reply(room, req, trustText(room));
        return null;
      case 'autotranscribe':
        await this.#autoTranscribe(room, req, cmd.on);
        return null;
      case 'run':
        return this.#accept(room, req, cmd, thread);
    }
  }

  /**
   * A quarantined node back in, at its owner's word (or this node's owner's), who must also
   * be one who may run work here: a node's announcement names any owner it likes.
   */
  async #release(room: MeshRoom, req: PendingRequest, node: string): Promise<void> {
    const ctx = this.#ctx;
    this.#mustSubmit(room, req, 'nothing changed');
    const owner = ctx.roster.view(room.id)?.nodes.get(node as UserId)?.owner;
    if (req.sender !== owner && req.sender !== ctx.config.owner) {
      throw new NotAdmittedError(`${req.sender} may not release ${node}`, {
        userMessage: `only ${node}'s owner${owner ? ` (${owner})` : ''} or ${ctx.config.owner} may release it`,
      });
    }
    if (!room.trust.isQuarantined(node)) {
      await this.#reply(room, req, `${node} is not quarantined`);
      return;
    }
    const content = { term: room.election.term, verdicts: [], released: [node] };
    await ctx.client.send(room.id, MESH_EVENT.verdict, content, ctx.signal);
    room.trust.release(node);
    room.changed();
    await this.#reply(room, req, `${node} is back: it gets work again, checked as in warm-up`);
  }

  async #autoTranscribe(room: MeshRoom, req: PendingRequest, on: boolean): Promise<void> {
    const ctx = this.#ctx;
    this.#mustSubmit(room, req, 'nothing changed');
    const settings = { ...room.settings, autoTranscribe: on };
    try {
      await ctx.client.sendState(room.id, MESH_EVENT.settings, '', settings);
    } catch (err) {
      if ((err as { errcode?: string }).errcode !== 'M_FORBIDDEN') throw err;
      throw new NotAdmittedError(`cannot set ${MESH_EVENT.settings}`, {
        cause: err,
        userMessage:
          `my power level is too low to change this room's settings: a room admin can lower ` +
          `the power level of ${MESH_EVENT.settings} to 0 (or raise mine)`,
      });
    }
    room.settings = settings;
    const text = on
      ? 'every voice message posted here is transcribed from now on (!autotranscribe off to stop)'
      : 'voice messages here are no longer transcribed unless asked (!run whisper in reply)';
    await this.#reply(room, req, text);
  }

  async #accept(
    room: MeshRoom,
    req: PendingRequest,
    cmd: Extract<Command, { name: 'run' }>,
    thread: string | undefined,
  ): Promise<Accepted | null> {
    const ctx = this.#ctx;
    const sender = req.sender as UserId;
    this.#mustSubmit(room, req, 'nothing was run');
    const states = this.#liveStates(room);
    const asked = await pipelineRequest(ctx, cmd.engine, cmd.params);
    const { cid: engineCid } = resolveEngine(ctx, asked.engine, states);
    const engine = { name: asked.engine, cid: cidFromString(engineCid) };
    const input = await runInput(ctx, room.id, {
      cid: cmd.cid,
      relatesTo: req.relatesTo,
      engine: asked.engine,
      runtime: engineRuntime(engine, ctx.engines, states),
    });
    const { replicas, params } = replicasOf(asked.params, ctx.config.verifier.maxReplicas);
    const task: Task = {
      type: 'task',
      engine,
      input,
      params,
      submitter: sender,
      room: room.id,
      request: req.id,
    };
    if (thread !== undefined) task.thread = thread;
    if (asked.pipeline) {
      // The Verifier checks plain tasks; a pipeline's are derived, and would go unchecked.
      if (replicas !== undefined && replicas > 1) {
        throw new BadInputError(
          'replicas= checks a single task, not a pipeline: run its stages one by one to have them checked',
        );
      }
      task.pipeline = fixEngines(ctx, asked.pipeline, states);
    }
    if (replicas !== undefined) task.replicas = replicas;
    const cid = await putTask(ctx.store, task);
    const bytes = await ctx.store.getBlock(cid, { offline: true });
    // The block travels in assignment events (64 KiB each, base64 inside).
    if (bytes.byteLength > MAX_TASK_BYTES) {
      throw new BadInputError(
        `the task is ${bytes.byteLength} bytes; at most ${MAX_TASK_BYTES} can be handed out`,
      );
    }
    // Deleted by its sender while it was being made into a task (the awaits above): not run.
    if (room.book.requests.isDeleted(req.id, sender)) {
      ctx.log.info('a request was deleted while it was taken: it will not run', {
        room: room.id,
        request: req.id,
      });
      return null;
    }
    room.book.accept(
      cid.toString(),
      Buffer.from(bytes).toString('base64'),
      taskInfo(task),
      Date.now(),
    );
    room.changed();
    return { task: cid.toString(), request: req.id };
  }

  /** Throws NotAdmittedError, saying `consequence`, when the sender may not run work here. */
  #mustSubmit(room: MeshRoom, req: PendingRequest, consequence: string): void {
    const ctx = this.#ctx;
    const refusal = ctx.admission.refusal(ctx.roster.view(room.id), req.sender as UserId);
    if (refusal) throw new NotAdmittedError(refusal, { userMessage: `${refusal}; ${consequence}` });
  }

  /** A task withdrawn, by its submitter or the owner of any node of the mesh now. */
  async #cancel(room: MeshRoom, req: PendingRequest, task: string, submitter: string) {
    const ctx = this.#ctx;
    if (req.sender !== submitter && !this.#nodeOwners(room).has(req.sender)) {
      throw new NotAdmittedError(`${req.sender} may not cancel ${task}`, {
        userMessage: `only ${submitter} (who asked for it) or a node's owner may cancel it`,
      });
    }
    const cancelled = await withdraw(ctx, room, [task], `cancelled by ${req.sender}`);
    const text =
      cancelled.length > 0
        ? `cancelled ${task}`
        : `${task} has finished already; nothing to cancel`;
    await this.#reply(room, req, text);
  }

  /**
   * The owners the mesh's current nodes name in their announcements, and this node's own
   * (whose announcement may not be in the view yet). A node that left names no one.
   */
  #nodeOwners(room: MeshRoom): Set<string> {
    const ctx = this.#ctx;
    const view = ctx.roster.view(room.id);
    const owners = new Set<string>([ctx.config.owner]);
    if (!view) return owners;
    for (const [node, state] of view.nodes) {
      if (state.owner && ctx.admission.isNode(view, node)) owners.add(state.owner);
    }
    return owners;
  }

  #liveStates(room: MeshRoom): NodeState[] {
    const view = this.#ctx.roster.view(room.id);
    return room.liveNodes().flatMap((n) => {
      const s = view?.nodes.get(n);
      return s ? [s] : [];
    });
  }

  #engines(room: MeshRoom): { name: string; description: string }[] {
    const names = new Set(this.#liveStates(room).flatMap((s) => s.engines.map((e) => e.name)));
    const engines = [...names].map((name) => ({
      name,
      description: this.#ctx.engines.get(name)?.manifest.description ?? '',
    }));
    // A named pipeline is offered when the mesh runs every engine it needs.
    for (const [name, p] of this.#ctx.pipelines ?? []) {
      const needs = [p.start ?? '', ...p.stages.map((s) => s.engine)];
      if (!needs.every((e) => names.has(e))) continue;
      const steps = [p.start, ...p.stages.map((s) => `${s.stage} (${s.engine})`)].join(' → ');
      engines.push({ name, description: `a pipeline: ${steps}` });
    }
    return engines.sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * An edit's reply goes to the message it edits (a thread cannot start on an edit), in that
   * message's thread if it is in one; none when that message is someone else's (clients
   * ignore such an edit).
   */
  async #edited(
    room: MeshRoom,
    req: PendingRequest,
    original: string,
  ): Promise<PendingRequest | undefined> {
    const event = await this.#ctx.client
      .getEvent?.(room.id, original as EventId)
      .catch(() => undefined);
    if (event && event.sender !== req.sender) return undefined;
    return { ...req, id: original, relatesTo: keptRelation(event?.content['m.relates_to']) };
  }

  /**
   * The reply to a command; one a minute for a sender who may not run work here. One held
   * back leaves the other nodes no tag to mark its request handled: they keep such senders'
   * requests apart and drop them after a minute (RequestLog).
   */
  async #reply(
    room: MeshRoom,
    req: PendingRequest,
    text: string,
    tag: ReplyTag = {},
  ): Promise<void> {
    const ctx = this.#ctx;
    const sender = req.sender as UserId;
    const submits = ctx.admission.maySubmit(ctx.roster.view(room.id), sender);
    if (!submits && !this.#limit.take(room.id, sender)) {
      ctx.log.info('reply held back: its sender may not run work here and was answered lately', {
        room: room.id,
        sender,
        request: req.id,
      });
      return;
    }
    await sendReply(ctx, room, req, text, tag);
  }
}
