/**
 * The Verifier on the acting coordinator. A finished task is answered as it is, or first run
 * again on other nodes — because its `!run` asked for `replicas=k`, or because the Verifier
 * is on and its worker is still in warm-up or drew a spot check — and answered with the result
 * a quorum agrees on. Nodes whose result a quorum rejected are quarantined: every node learns
 * it from the verdict event, and the room is told.
 */
import * as dagJson from '@ipld/dag-json';
import { CID } from 'multiformats/cid';
import type { Candidate } from '../coordinator/match.ts';
import { readTaskBlock } from '../coordinator/task-block.ts';
import { FINAL, type TaskRecord } from '../coordinator/task-record.ts';
import { MESH_EVENT, type Verdict } from '../protocol/manager.ts';
import { parseTask, type Task } from '../queue/task.ts';
import { cidOf, DAG_JSON } from '../store/cid.ts';
import { decide } from '../verifier/quorum.ts';
import { planReplicas } from '../verifier/replication.ts';
import { sendNotice } from './answers.ts';
import { applyVerdict } from './book-events.ts';
import type { NodeContext } from './context.ts';
import type { MeshRoom } from './mesh-room.ts';

export class Verification {
  readonly #ctx: NodeContext;

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

  /** Settles the tasks whose replicas are all final; returns the verdicts to announce. */
  settle(room: MeshRoom): Verdict[] {
    const verdicts: Verdict[] = [];
    const { quorum, maxReplicas } = this.#ctx.config.verifier;
    for (const rec of room.book.verifyingTasks()) {
      const parts = (rec.parts ?? []).map((id) => room.book.get(id));
      if (parts.some((p) => !p || !FINAL.has(p.state))) continue;
      const results = [{ node: rec.worker ?? '', value: rec.result ?? '' }];
      for (const p of parts)
        if (p?.state === 'done' && p.result && p.worker)
          results.push({ node: p.worker, value: p.result });
      const d = decide(results, { quorum, maxReplicas });
      const used = new Set([rec.worker, ...parts.flatMap((p) => p?.assignedTo ?? [])]);
      const others = room.liveNodes().filter((n) => !used.has(n) && !room.trust.isQuarantined(n));
      if (d.kind === 'need-more' && parts.length + 1 < maxReplicas && others.length > 0) {
        const task = taskOf(rec);
        if (task) {
          const next = replicaOf(rec.id, task, parts.length + 1);
          this.#accept(room, [next]);
          room.book.addParts(rec.id, [next.id]);
          room.changed();
          continue;
        }
      }
      const now = Date.now();
      if (results.length === 1 && others.length === 0) {
        // Nobody else could run it: the result stands, and the reply says it is unchecked.
        room.book.finishSplit(rec.id, { result: rec.result ?? '' }, now);
        rec.verified = { agreeing: 1, of: 1 };
      } else if (d.kind === 'agreed') {
        room.book.finishSplit(rec.id, { result: d.value }, now);
        Object.assign(rec, {
          worker: d.agreeing[0],
          verified: { agreeing: d.agreeing.length, of: results.length },
        });
        verdicts.push({ task: rec.id, agreeing: d.agreeing, dissenting: d.dissenting });
      } else {
        const message =
          results.length < 2
            ? 'no other node could run it to check its result'
            : `the ${results.length} nodes that ran it did not agree on a result`;
        room.book.finishSplit(rec.id, { error: { code: 'UNVERIFIED', message } }, now);
        verdicts.push({ task: rec.id, agreeing: [], dissenting: [] });
      }
      room.changed();
    }
    return verdicts;
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
    // Transcripts may differ from one CPU to another: compared by CID they would never agree.
    const runtime = this.#ctx.engines.get(task.engine.name)?.manifest.runtime;
    if (task.replicas === undefined && runtime === 'whisper') return 1;
    const requested =
      task.replicas === undefined ? undefined : Math.min(task.replicas, verifier.maxReplicas);
    return planReplicas(
      { requested, worker: room.trust.get(rec.worker ?? ''), random: Math.random },
      verifier,
    );
  }

  #accept(room: MeshRoom, replicas: { id: string; block: Uint8Array; task: Task }[]): void {
    const now = Date.now();
    for (const r of replicas) {
      const info = {
        request: r.task.request,
        submitter: r.task.submitter,
        engine: r.task.engine.name,
        parent: r.task.replica?.of.toString(),
      };
      room.book.accept(r.id, Buffer.from(r.block).toString('base64'), info, now);
      void this.#ctx.ledgers
        .get(room.id)
        .enqueue(CID.parse(r.id))
        .catch(() => {});
    }
  }
}

/** A replica runs on a node that has not run the task it checks; any task on any node else. */
export function othersFor(room: MeshRoom, rec: TaskRecord, candidates: Candidate[]): Candidate[] {
  const parent = rec.parent ? room.book.get(rec.parent) : undefined;
  if (!parent?.verifying) return candidates;
  const used = new Set<string>(parent.worker ? [parent.worker] : []);
  for (const id of parent.parts ?? []) {
    if (id === rec.id) continue;
    for (const w of room.book.get(id)?.assignedTo ?? []) used.add(w);
  }
  return candidates.filter((c) => !used.has(c.id));
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
function replicaOf(
  id: string,
  task: Task,
  n: number,
): { id: string; block: Uint8Array; task: Task } {
  const { replicas: _, ...rest } = task;
  const replica = parseTask({ ...rest, replica: { of: CID.parse(id), n }, parent: CID.parse(id) });
  const block = dagJson.encode(replica);
  return { id: cidOf(DAG_JSON, block).toString(), block, task: replica };
}
