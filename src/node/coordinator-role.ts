import { setTimeout as sleep } from 'node:timers/promises';
import { CID } from 'multiformats/cid';
import { keptBody, parseCommand } from '../commands/parse.ts';
import { bookLoad } from '../coordinator/book-views.ts';
import { type Candidate, canRun, fairOrder, pickWorker, whyNoNode } from '../coordinator/match.ts';
import type { PendingRequest, TaskRecord } from '../coordinator/task-record.ts';
import type { RoomId, UserId } from '../ids.ts';
import { keptRelation, ownText, threadOf } from '../matrix/reply.ts';
import type { RoomEvent } from '../matrix/types.ts';
import { isVoiceMessage } from '../whisper/voice.ts';
import { ACK, Answers } from './answers.ts';
import { AssignOutbox } from './assign-outbox.ts';
import type { NodeContext } from './context.ts';
import { type Accepted, Dispatch } from './dispatch.ts';
import type { MeshRoom } from './mesh-room.ts';
import { autoRelation, editedCommand } from './message-requests.ts';
import { needsOf } from './needs.ts';
import { PipelineJobs } from './pipelines.ts';
import { Serial } from './serial.ts';
import { SplitJobs } from './splits.ts';
import { UnsentAssignments } from './unsent-assignments.ts';
import { othersFor, Verification } from './verification.ts';

/**
 * The coordinator side. Every node records the commands it sees; only the node that holds
 * the lease acts: it answers commands, records accepted tasks in the room before
 * acknowledging them (👀), assigns queued tasks fairly to nodes that can run them, requeues
 * work whose worker went quiet, and answers each finished task once. A node that takes over
 * finds all of this in its own book, kept from the same room events.
 */
export class CoordinatorRole {
  readonly #ctx: NodeContext;
  readonly #rooms: () => MeshRoom[];
  readonly #dispatch: Dispatch;
  readonly #answers: Answers;
  readonly #outbox: AssignOutbox;
  readonly #pumps = new Map<RoomId, { serial: Serial; queued: boolean }>();
  /** The term each room was last coordinated in by this node. */
  readonly #terms = new Map<RoomId, number>();
  #timer: NodeJS.Timeout | undefined;
  readonly #splits: SplitJobs;
  readonly #pipelines: PipelineJobs;
  readonly #verification: Verification;
  /** Queue GOHO appends (HPCP announces them in batches), off the coordination path. */
  readonly #ledger: Serial;
  /** Requests this node showed 👀 on and has not shown the end of yet, by task. */
  readonly #eyed = new Map<string, { room: RoomId; request: string }>();
  /**
   * `!run`s in reply to a file (or with a pipeline definition to fetch), handled one at a
   * time beside the pumps: the download may take up to `limits.fetchTimeoutMs`, and in a pump
   * every other command would wait.
   */
  readonly #files: Serial;
  /** What those accepted since their room's last pump, for that pump to acknowledge. */
  readonly #fetched = new Map<RoomId, Accepted[]>();
  /** Requests on the file line, by id: still pending in the book until the line takes them. */
  readonly #onFileLine = new Map<string, { room: RoomId; thread: string | undefined }>();
  /** Assignments still on their way to the room: no lease runs for them yet. */
  readonly #unsent: UnsentAssignments;

  constructor(ctx: NodeContext, rooms: () => MeshRoom[]) {
    this.#ctx = ctx;
    this.#ledger = new Serial(ctx.log, 'queue append');
    this.#files = new Serial(ctx.log, 'file request');
    this.#unsent = new UnsentAssignments(() => ctx.config.mesh.assignmentLeaseMs);
    this.#rooms = rooms;
    this.#dispatch = new Dispatch(ctx);
    this.#answers = new Answers(ctx);
    this.#outbox = new AssignOutbox(ctx);
    this.#splits = new SplitJobs(ctx);
    this.#pipelines = new PipelineJobs(ctx);
    this.#verification = new Verification(ctx);
  }

  start(): void {
    const { leaseMs, assignmentLeaseMs } = this.#ctx.config.mesh;
    const every = Math.max(
      100,
      Math.min(1_000, Math.floor(Math.min(leaseMs, assignmentLeaseMs) / 12)),
    );
    this.#timer ??= setInterval(() => {
      if (this.#ctx.signal.aborted) return clearInterval(this.#timer);
      for (const room of this.#rooms()) {
        void room.election.tick().then(() => this.poke(room));
      }
    }, every);
    this.#timer.unref();
  }

  /** Resolves when the work started so far (pumps, answers, sends) is done. */
  async idle(): Promise<void> {
    // A pump may hand a `!run` to the file line, which pokes the pump once the file is in.
    for (const p of this.#pumps.values()) await p.serial.idle();
    await this.#files.idle();
    for (const p of this.#pumps.values()) await p.serial.idle();
    await this.#answers.idle();
    await this.#outbox.idle();
  }

  /** A message in the room: a command is recorded, by every node, until one handles it. */
  onMessage(room: MeshRoom, event: RoomEvent): void {
    const ctx = this.#ctx;
    if (event.sender === ctx.self || typeof event.content.body !== 'string') return;
    const view = ctx.roster.view(room.id);
    if (ctx.admission.isNode(view, event.sender)) return;
    // Every node tells from the same room state whose commands are owed one answer a minute
    // at most (Dispatch): those wait apart, briefly, as their answer may never come.
    const mayRun = ctx.admission.maySubmit(view, event.sender);
    // An edit never runs anything (again); one that makes a command is answered once, saying so.
    if (event.content['m.new_content'] !== undefined) {
      const edits = editedCommand(event);
      if (edits === undefined) return;
      const seenAt = Date.now();
      room.book.requests.seen(
        { id: event.event_id, sender: event.sender, body: '', seenAt, edits },
        mayRun,
      );
      room.changed();
      this.poke(room);
      return;
    }
    // A voice message where the room asked for it is taken as `!run whisper` in reply to it.
    // Only from those who may submit work: others' voice messages get no refusal each time.
    const auto = room.settings.autoTranscribe === true && isVoiceMessage(event.content) && mayRun;
    // Without the quote of the message replied to that some clients put first.
    const body = ownText(event.content);
    if (!auto && parseCommand(body, true, true).kind === 'none') return;
    room.book.requests.seen(
      {
        id: event.event_id,
        sender: event.sender,
        body: auto ? '!run whisper' : keptBody(body),
        relatesTo: auto ? autoRelation(event) : keptRelation(event.content['m.relates_to']),
        seenAt: Date.now(),
      },
      mayRun,
    );
    room.changed();
    this.poke(room);
  }

  /**
   * The room's Results GOHO has a new head, or a task finished: every node evaluates the
   * pipelines' conditions.
   */
  onResults(room: MeshRoom): void {
    void this.#pipelines.run(room, () => this.poke(room));
  }

  /** A room this node left: what it kept of it goes (an old MeshRoom, its term, its 👀). */
  forget(room: RoomId): void {
    for (const map of [this.#pumps, this.#terms, this.#fetched]) map.delete(room);
    for (const map of [this.#eyed, this.#onFileLine]) {
      for (const [key, v] of map) if (v.room === room) map.delete(key);
    }
    this.#pipelines.forget(room);
  }

  /** Something changed in a room: the coordinator looks at it again (coalesced). */
  poke(room: MeshRoom): void {
    let p = this.#pumps.get(room.id);
    if (!p) {
      p = { serial: new Serial(this.#ctx.log, 'coordination'), queued: false };
      this.#pumps.set(room.id, p);
    }
    if (p.queued || this.#ctx.signal.aborted) return;
    p.queued = true;
    const pump = p;
    p.serial.push(async () => {
      pump.queued = false;
      await this.#pump(room);
    });
  }

  async #pump(room: MeshRoom): Promise<void> {
    const ctx = this.#ctx;
    if (!room.election.acting()) {
      this.#terms.delete(room.id);
      this.#fetched.delete(room.id);
      return;
    }
    const term = room.election.term;
    const { assignmentLeaseMs, maxAttempts } = ctx.config.mesh;
    if (this.#terms.get(room.id) !== term) {
      this.#terms.set(room.id, term);
      // The holder whose lease this node took over went quiet: it gets no work for now.
      const previous = room.election.clock.holderOf(term - 1);
      if (previous) room.suspect(previous);
      // Workers renew to whoever coordinates: each running assignment gets a full lease.
      room.book.refreshLeases(assignmentLeaseMs, Date.now());
      ctx.log.info('acting as coordinator', { room: room.id, term });
    }
    const accepted: Accepted[] = this.#fetched.get(room.id)?.splice(0) ?? [];
    for (const req of room.book.requests.pending()) {
      if (this.#onFileLine.has(req.id) || this.#afterFile(room, req)) continue;
      if (this.#dispatch.needsDownload(room, req)) {
        this.#handleBeside(room, req);
        continue;
      }
      const a = await this.#dispatch.handle(room, req);
      if (!a) continue;
      accepted.push(a);
      this.#ledger.push(() => ctx.ledgers.get(room.id).enqueue(CID.parse(a.task)));
    }
    for (const rec of room.book.expire(Date.now(), maxAttempts, (t) => this.#unsent.has(t))) {
      if (rec.worker) room.suspect(rec.worker as UserId);
      ctx.log.warn('assignment lease expired', {
        task: rec.id,
        worker: rec.worker,
        state: rec.state,
      });
      room.changed();
    }
    this.#splits.run(room, () => this.poke(room));
    void this.#pipelines.run(room, () => this.poke(room));
    this.#verification.plan(room);
    this.#verification.settle(room, () => this.poke(room));
    const sent = this.#schedule(room, term);
    this.#acknowledge(room, term, accepted, sent);
    this.#answers.answerAll(room);
    this.#endReactions(room);
  }

  /**
   * A `!run` in reply to a file, or with a pipeline definition to fetch, handled once the
   * download is in (or refused): on the file line, while the pumps go on. It stays pending in
   * the book until the line takes it (a node that stops meanwhile finds it there again), and
   * is left so if this node no longer coordinates by then, for the one that does.
   */
  #handleBeside(room: MeshRoom, req: PendingRequest): void {
    this.#onFileLine.set(req.id, { room: room.id, thread: threadOf(req.relatesTo) });
    this.#files.push(async () => {
      try {
        // Deleted (or handled) meanwhile, another node coordinates now, or this node left.
        const pending = room.book.requests.pending().some((r) => r.id === req.id);
        if (!pending || !room.election.acting() || !this.#rooms().includes(room)) return;
        const a = await this.#dispatch.handle(room, req);
        if (!a) return;
        this.#ledger.push(() => this.#ctx.ledgers.get(room.id).enqueue(CID.parse(a.task)));
        const fetched = this.#fetched.get(room.id) ?? [];
        fetched.push(a);
        this.#fetched.set(room.id, fetched);
      } finally {
        this.#onFileLine.delete(req.id);
        this.poke(room);
      }
    });
  }

  /**
   * A command posted in the thread of a `!run` still on the file line (its `!status` or
   * `!cancel`, which names no task there): it waits for that `!run`, as in room order.
   */
  #afterFile(room: MeshRoom, req: PendingRequest): boolean {
    const thread = threadOf(req.relatesTo);
    if (thread === undefined) return false;
    for (const [id, f] of this.#onFileLine) {
      if (f.room === room.id && (id === thread || f.thread === thread)) return true;
    }
    return false;
  }

  /**
   * ✅ or ❌ on each request this node showed 👀 on, once it is answered. A request answered
   * before its 👀 was due shows its state in the reply alone: one event less in the room.
   */
  #endReactions(room: MeshRoom): void {
    for (const [task, eyed] of this.#eyed) {
      if (eyed.room !== room.id) continue;
      const rec = room.book.get(task);
      if (rec && !rec.answered) continue;
      this.#eyed.delete(task);
      if (!rec) continue;
      const key = rec.state === 'done' ? ACK.done : ACK.failed;
      void this.#ctx.client.react(room.id, eyed.request as never, key).catch(() => {});
    }
  }

  /** Assigns queued tasks, fairly; returns the send of each assignment, by task. */
  #schedule(room: MeshRoom, term: number): Map<string, Promise<boolean>> {
    const ctx = this.#ctx;
    const sent = new Map<string, Promise<boolean>>();
    const queued = room.book.queued();
    if (queued.length === 0) return sent;
    const { perWorker, perSubmitter } = bookLoad(room.book);
    const view = ctx.roster.view(room.id);
    const candidates: Candidate[] = room.liveNodes().flatMap((id) => {
      // A node caught with a wrong result gets no new work.
      if (room.trust.isQuarantined(id)) return [];
      const state = view?.nodes.get(id);
      return state ? [{ id, state, held: perWorker.get(id) ?? 0 }] : [];
    });
    const now = Date.now();
    // On a tie the coordinator runs the task itself (one room hop less), unless the server
    // rate-limits it: then its own events (lease, assignments) need every slot, and it runs
    // work only when no other node has room for it.
    const place = ctx.client.rateLimited?.() ? ('last' as const) : ('first' as const);
    const self = { id: ctx.self, place };
    for (const rec of fairOrder(queued, perSubmitter)) {
      const needs = needsOf(ctx, rec);
      if (!needs) {
        const error = { code: 'BAD_TASK', message: 'the task record is unreadable' };
        room.book.giveUp(rec.id, error, now);
        room.changed();
        continue;
      }
      const avoid = new Set(rec.failures.flatMap((f) => (f.worker ? [f.worker] : [])));
      // A replica goes to a node that can run it and has not run its task: choosing among
      // all nodes first could pick one that cannot, and leave the replica queued for ever.
      const capable = candidates.filter((c) => canRun(needs, c.state));
      const able = othersFor(room, rec, capable, (n) => view?.nodes.get(n as UserId)?.owner ?? n);
      if (able.length === 0 && capable.length > 0) {
        // A replica with no node left that has not run its task: the Verifier decides without.
        room.book.giveUp(
          rec.id,
          { code: 'UNPLACEABLE', message: 'no other node to check it' },
          now,
        );
        room.changed();
        continue;
      }
      const worker = pickWorker(needs, able, ctx.config.mesh.prefetch, avoid, self);
      if (!worker) {
        this.#unplaceable(
          room,
          rec,
          whyNoNode(
            needs,
            candidates.map((c) => c.state),
          ),
        );
        continue;
      }
      const attempt = rec.attempt + 1;
      room.book.assign(rec.id, { worker, attempt, term }, ctx.config.mesh.assignmentLeaseMs, now);
      room.changed();
      const c = candidates.find((x) => x.id === worker);
      if (c) c.held++;
      const block = rec.block ?? '';
      const report = this.#verification.reportAll ? { report: true } : {};
      const a0 = { task: rec.id, worker, attempt, block, ...report };
      const sending = this.#outbox.assign(room, term, a0);
      sent.set(rec.id, sending);
      this.#unsent.track(room, { task: rec.id, worker, attempt }, sending);
      const a = { worker, term, attempt };
      this.#ledger.push(() => ctx.ledgers.get(room.id).assign(CID.parse(rec.id), a));
    }
    return sent;
  }

  /**
   * A task no live node can run fails with the reason once it has waited a whole
   * assignment lease (nodes that just restarted get the time to announce themselves).
   */
  #unplaceable(room: MeshRoom, rec: TaskRecord, why: string | null): void {
    const waited = Date.now() - (rec.leaseUntil ?? rec.acceptedAt);
    if (why === null || waited < this.#ctx.config.mesh.assignmentLeaseMs) return;
    room.book.giveUp(rec.id, { code: 'UNPLACEABLE', message: why }, Date.now());
    room.changed();
  }

  /**
   * 👀 for each accepted `!run`, once the room holds its record (assignment or accept) — and
   * only if it is not answered within `mesh.ackDelayMs`: a quick answer is acknowledgement
   * enough, and each reaction is one more event under the homeserver's rate limit.
   */
  #acknowledge(
    room: MeshRoom,
    term: number,
    accepted: Accepted[],
    sent: Map<string, Promise<boolean>>,
  ): void {
    const ctx = this.#ctx;
    const since = Date.now();
    for (const a of accepted) {
      const rec = room.book.get(a.task);
      const recorded =
        sent.get(a.task) ?? this.#outbox.accept(room, term, a.task, rec?.block ?? '');
      void recorded
        .then(async (ok) => {
          if (!ok) return;
          // The delay counts from acceptance, not from the record's send.
          const left = ctx.config.mesh.ackDelayMs - (Date.now() - since);
          if (left > 0) await sleep(left, undefined, { signal: ctx.signal });
          // ackDelayMs 0 asks for 👀 on every request, however quick its answer.
          if (ctx.config.mesh.ackDelayMs > 0 && room.book.get(a.task)?.answered) return;
          await ctx.client.react(room.id, a.request as never, ACK.accepted);
          this.#eyed.set(a.task, { room: room.id, request: a.request });
          this.#endReactions(room);
        })
        .catch((err: unknown) => {
          if (!ctx.signal.aborted) ctx.log.warn('could not acknowledge', { err });
        });
    }
  }
}
