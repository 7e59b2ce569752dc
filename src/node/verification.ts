/**
 * The Verifier on the acting coordinator. A finished task is answered as it is, or first run
 * again on other nodes — because its `!run` asked for `replicas=k`, or because the Verifier
 * is on and its worker is still in warm-up or drew a spot check — and answered with the result
 * a quorum agrees on. Nodes whose result a quorum rejected are quarantined: every node learns
 * it from the verdict event, and the room is told.
 */
import { CID } from 'multiformats/cid';
import type { Candidate } from '../coordinator/match.ts';
import { readTaskBlock, taskInfo } from '../coordinator/task-block.ts';
import { FINAL, type TaskRecord } from '../coordinator/task-record.ts';
import type { RuntimeKind } from '../protocol/engines.ts';
import { MESH_EVENT, type Verdict } from '../protocol/manager.ts';
import { encodeTask, type Task, type TaskBlock } from '../queue/task.ts';
import { type Comparator, decide, type ReplicaResult, werComparator } from '../verifier/quorum.ts';
import { pickReplicaNodes, planReplicas } from '../verifier/replication.ts';
import { decodeTranscript } from '../whisper/transcript.ts';
import { sendNotice } from './answers.ts';
import { applyVerdict, verdictOutcome } from './book-events.ts';
import type { NodeContext } from './context.ts';
import type { MeshRoom } from './mesh-room.ts';
import { engineRuntime } from './resolve-engine.ts';

/** Checks of a task tried while a transcript could not be read, before settling without it. */
const READ_TRIES = 3;

export class Verification {
  readonly #ctx: NodeContext;
  /** Tasks whose check is being settled. */
  readonly #busy = new Set<string>();
  /** Checks tried so far while some transcript could not be read, by task. */
  readonly #readTries = new Map<string, number>();

  constructor(ctx: NodeContext) {
    this.#ctx = ctx;
  }

  /** Whether assignments ask workers to report rather than answer. */
  get reportAll(): boolean {
    return this.#ctx.config.verifier.enabled;
  }

  /** Decides, for every finished task not yet decided, whether it is checked. Synchronous. */
  plan(room: MeshRoom): void {
    for (const rec of room.book.unanswered()) {
      if (rec.checked || rec.state !== 'done' || !eligible(rec)) continue;
      const task = taskOf(rec);
      const total = task ? this.#replicasFor(room, rec, task) : 1;
      if (!task || total <= 1) {
        room.book.markChecked(rec.id);
        continue;
      }
      const replicas = Array.from({ length: total - 1 }, (_, i) => replicaOf(rec.id, task, i + 1));
      this.#accept(room, replicas);
      room.book.verify(
        rec.id,
        replicas.map((r) => r.id),
      );
      room.changed();
    }
  }

  /**
   * Settles each task whose replicas are all final, one job per task at a time (comparing
   * transcripts reads them first), and announces the verdict; `poke` when one is done.
   */
  settle(room: MeshRoom, poke: () => void): void {
    for (const rec of room.book.verifyingTasks()) {
      const parts = (rec.parts ?? []).map((id) => room.book.get(id));
      if (parts.some((p) => !p || !FINAL.has(p.state)) || this.#busy.has(rec.id)) continue;
      const results = [{ node: rec.worker ?? '', value: rec.result ?? '' }];
      for (const p of parts) {
        if (p?.state === 'done' && p.result && p.worker) {
          results.push({ node: p.worker, value: p.result });
        }
      }
      this.#busy.add(rec.id);
      // A check that fails is tried again on the coordinator's next tick, not at once.
      void this.#comparator(room, rec, results)
        .then(({ compare, unread, later }) => {
          this.#busy.delete(rec.id);
          if (later) return; // some transcript could not be read yet: the next tick tries again
          this.#readTries.delete(rec.id);
          if (!room.election.acting() || rec.state !== 'split') return;
          // A result nobody could read is neither agreed with nor held against its node.
          const counted = results.filter((r) => !unread.has(r.value));
          const verdict = this.#settleOne(room, rec, parts.length, counted, compare);
          if (verdict) this.announce(room, room.election.term, [verdict]);
          poke();
        })
        .catch((err: unknown) => {
          this.#busy.delete(rec.id);
          this.#ctx.log.warn('could not settle a check', { task: rec.id, err });
        });
    }
  }

  #settleOne(
    room: MeshRoom,
    rec: TaskRecord,
    replicas: number,
    results: ReplicaResult[],
    compare: Comparator | undefined,
  ): Verdict | undefined {
    const { quorum, maxReplicas } = this.#ctx.config.verifier;
    const d = decide(results, { quorum, maxReplicas, compare });
    const used = new Set([rec.worker, ...results.map((r) => r.node)]);
    for (const id of rec.parts ?? [])
      for (const w of room.book.get(id)?.assignedTo ?? []) used.add(w);
    const others = room.liveNodes().filter((n) => !used.has(n) && !room.trust.isQuarantined(n));
    const task = taskOf(rec);
    if (d.kind === 'need-more' && replicas + 1 < maxReplicas && others.length > 0 && task) {
      const next = replicaOf(rec.id, task, replicas + 1);
      this.#accept(room, [next]);
      room.book.addParts(rec.id, [next.id]);
      room.changed();
      return undefined;
    }
    room.changed();
    if (results.length === 1 && others.length === 0) {
      // Nobody else could run it (or the others' results could not be read): the result
      // stands, and the reply says it is unchecked.
      room.book.finishSplit(rec.id, { result: results[0]?.value ?? '' }, Date.now());
      rec.verified = { agreeing: 1, of: 1 };
      return undefined;
    }
    // The verdict carries the outcome, the agreed result or a failure, and every node's book
    // takes it from there (this one too, when it is announced; and here at once).
    const of = results.length;
    const verdict: Verdict =
      d.kind === 'agreed'
        ? { task: rec.id, agreeing: d.agreeing, dissenting: d.dissenting, result: d.value, of }
        : { task: rec.id, agreeing: [], dissenting: [], of };
    const outcome = verdictOutcome(verdict);
    if (outcome) room.book.checked(rec.id, outcome, Date.now());
    return verdict;
  }

  /**
   * How results are compared: by CID, except transcripts, which may differ from one CPU to
   * another by a word or two: equal when their word error rate is under 10%. A transcript that
   * cannot be read now (its worker went offline, a fetch timed out, it is too large) is no
   * evidence either way: the check is tried again on later ticks, and then settled without it
   * (`unread`); compared by its CID, an honest node a word away from the others would be
   * outvoted and quarantined. Bytes that are read and are no transcript compare by CID.
   */
  async #comparator(
    room: MeshRoom,
    rec: TaskRecord,
    results: ReplicaResult[],
  ): Promise<{ compare?: Comparator; unread: Set<string>; later?: boolean }> {
    const unread = new Set<string>();
    const task = taskOf(rec);
    if (!task || this.#runtimeOf(room, task) !== 'whisper') return { unread };
    const texts = new Map<string, string>();
    const signal = AbortSignal.any([this.#ctx.signal, AbortSignal.timeout(15_000)]);
    const maxBytes = this.#ctx.config.limits.maxInputBytes;
    for (const { value } of results) {
      let cid: CID;
      try {
        cid = CID.parse(value);
      } catch {
        continue; // not a CID: compared as it is
      }
      const bytes = await this.#ctx.store.cat(cid, { signal, maxBytes }).catch(() => undefined);
      if (!bytes) unread.add(value);
      const t = bytes ? decodeTranscript(bytes) : null;
      if (t) texts.set(value, t.text);
    }
    const tries = (this.#readTries.get(rec.id) ?? 0) + 1;
    if (unread.size > 0 && tries < READ_TRIES) {
      this.#readTries.set(rec.id, tries);
      this.#ctx.log.info('a transcript to check could not be read: trying again later', {
        task: rec.id,
        unread: [...unread],
        tries,
      });
      return { unread, later: true };
    }
    const wer = werComparator(0.1);
    const compare: Comparator = (a, b) => {
      const x = texts.get(a);
      const y = texts.get(b);
      return a === b || (x !== undefined && y !== undefined && wer(x, y));
    };
    return { compare, unread };
  }

  /** Verdicts go to every node (their trust records); a node caught cheating is named in the room. */
  announce(room: MeshRoom, term: number, verdicts: Verdict[]): void {
    if (verdicts.length === 0) return;
    const ctx = this.#ctx;
    const caught = verdicts.flatMap((v) =>
      applyVerdict(room, v, Date.now()).map((n) => [n, v] as const),
    );
    room.changed();
    void ctx.client
      .send(room.id, MESH_EVENT.verdict, { term, verdicts }, ctx.signal)
      .catch((err: unknown) => ctx.log.warn('could not announce verdicts', { err }));
    for (const [node, v] of caught) {
      const text =
        `⚠ ${node} returned a wrong result for task ${v.task}: ${v.agreeing.length} other ` +
        'nodes agreed on another. It is quarantined and gets no new work; !trust shows every node.';
      void sendNotice(ctx, room, text).catch(() => {});
    }
  }

  #replicasFor(room: MeshRoom, rec: TaskRecord, task: Task): number {
    const { verifier } = this.#ctx.config;
    if (task.replicas === undefined && !verifier.enabled) return 1;
    // Transcripts may differ from one CPU to another: they are checked only when asked for.
    if (task.replicas === undefined && this.#runtimeOf(room, task) === 'whisper') return 1;
    const requested =
      task.replicas === undefined ? undefined : Math.min(task.replicas, verifier.maxReplicas);
    return planReplicas(
      { requested, worker: room.trust.get(rec.worker ?? ''), random: Math.random },
      verifier,
    );
  }

  /** The runtime of the engine a task names (the coordinator need not have every engine it checks). */
  #runtimeOf(room: MeshRoom, task: Task): RuntimeKind | undefined {
    const states = this.#ctx.roster.view(room.id)?.nodes.values() ?? [];
    return engineRuntime(task.engine, this.#ctx.engines, [...states]);
  }

  #accept(room: MeshRoom, replicas: TaskBlock[]): void {
    const now = Date.now();
    for (const r of replicas) {
      room.book.accept(r.id, Buffer.from(r.block).toString('base64'), taskInfo(r.task), now);
      void this.#ctx.ledgers
        .get(room.id)
        .enqueue(CID.parse(r.id))
        .catch(() => {});
    }
  }
}

/**
 * A replica runs on a node that has not run the task it checks, of another owner where there
 * is one; any other task on any node.
 */
export function othersFor(
  room: MeshRoom,
  rec: TaskRecord,
  candidates: Candidate[],
  ownerOf: (node: string) => string,
): Candidate[] {
  const parent = rec.parent ? room.book.get(rec.parent) : undefined;
  if (!parent?.verifying) return candidates;
  const used = new Set<string>(parent.worker ? [parent.worker] : []);
  for (const id of parent.parts ?? []) {
    if (id === rec.id) continue;
    for (const w of room.book.get(id)?.assignedTo ?? []) used.add(w);
  }
  // One person's two nodes checking each other prove little: other owners' nodes first.
  const owners = [...used].map(ownerOf);
  const all = candidates.map((c) => ({ id: c.id, owner: ownerOf(c.id) }));
  const ranked = pickReplicaNodes(all, { ids: [...used], owners }, all.length);
  const fresh = ranked.filter((r) => !owners.includes(r.owner));
  const ids = new Set((fresh.length > 0 ? fresh : ranked).map((r) => r.id));
  return candidates.filter((c) => ids.has(c.id));
}

/** Plain tasks only: parts, pipelines and split tasks are checked through their own tasks. */
function eligible(rec: TaskRecord): boolean {
  return !rec.parent && !rec.pipeline && rec.parts === undefined && !!rec.worker && !!rec.result;
}

function taskOf(rec: TaskRecord): Task | undefined {
  try {
    return rec.block ? readTaskBlock(rec.id, rec.block) : undefined;
  } catch {
    return undefined;
  }
}

/** Replica n of a task: the same work under another id, a part of the task it checks. */
function replicaOf(id: string, task: Task, n: number): TaskBlock {
  const { replicas: _, ...rest } = task;
  return encodeTask({ ...rest, replica: { of: CID.parse(id), n }, parent: CID.parse(id) });
}
