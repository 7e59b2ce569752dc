import type { UserId } from '../ids.ts';
import type { NodeState } from '../protocol/events.ts';
import type { TaskRecord } from './task-record.ts';

/** What a task needs from the node that runs it. */
export interface Needs {
  engine: string;
  /** The exact engine package (its CID); absent: any version of the engine. */
  engineCid?: string;
  memoryMb?: number;
  arch?: string;
  gpu?: boolean;
}

export interface Candidate {
  id: UserId;
  state: NodeState;
  /** Assignments the node holds now. */
  held: number;
}

/** Whether one node can run a task at all (load aside). */
export function canRun(needs: Needs, node: NodeState): boolean {
  return unmet(needs, node).length === 0;
}

type Miss = 'engine' | 'version' | 'memory' | 'arch' | 'gpu';

function unmet(needs: Needs, node: NodeState): Miss[] {
  const engine = node.engines.find((e) => e.name === needs.engine);
  if (!engine) return ['engine'];
  const out: Miss[] = [];
  if (needs.engineCid && engine.cid !== needs.engineCid) out.push('version');
  if (needs.memoryMb !== undefined && node.memoryMb < needs.memoryMb) out.push('memory');
  if (needs.arch !== undefined && node.arch !== needs.arch) out.push('arch');
  if (needs.gpu === true && !node.gpu) out.push('gpu');
  return out;
}

/** Why no node of `nodes` can run the task, for the person who asked; null when one can. */
export function whyNoNode(needs: Needs, nodes: NodeState[]): string | null {
  const misses = nodes.map((n) => unmet(needs, n));
  if (misses.some((m) => m.length === 0)) return null;
  if (nodes.length === 0) return 'no node of this mesh is online';
  if (misses.every((m) => m.includes('engine'))) {
    const known = [...new Set(nodes.flatMap((n) => n.engines.map((e) => e.name)))].sort();
    return `no node in this mesh runs the engine "${needs.engine}"; engines here: ${known.join(', ') || 'none'}`;
  }
  const all = new Set(misses.flat());
  const reasons: string[] = [];
  if (all.has('version')) reasons.push(`its exact version of ${needs.engine}`);
  if (all.has('memory')) {
    const most = Math.max(...nodes.map((n) => n.memoryMb));
    reasons.push(`${needs.memoryMb} MB of memory (the most any node has is ${most} MB)`);
  }
  if (all.has('arch')) reasons.push(`the ${needs.arch} architecture`);
  if (all.has('gpu')) reasons.push('a GPU (no node here has one)');
  return `no node in this mesh can run this ${needs.engine} task: it needs ${reasons.join(', and ')}`;
}

/**
 * The worker for a task: among nodes that can run it and have a free slot (capacity plus
 * `prefetch`), the least loaded relative to its capacity, then by user id. `self` (the
 * coordinator) goes first on a tie, or `last`: only when no other node has a free slot (under a
 * rate limit its own events need its sends, and running work adds answers). Nodes in `avoid`
 * (they failed this task before) are used only when no other node can run it.
 */
export function pickWorker(
  needs: Needs,
  candidates: Candidate[],
  prefetch: number,
  avoid: ReadonlySet<string> = new Set(),
  self?: { id: UserId; place: 'first' | 'last' },
): UserId | null {
  const able = candidates.filter((c) => canRun(needs, c.state));
  const fresh = able.filter((c) => !avoid.has(c.id));
  const pool = fresh.length > 0 ? fresh : able;
  const free = pool.filter((c) => c.held < Math.max(1, c.state.capacity) + prefetch);
  const ratio = (c: Candidate) => c.held / Math.max(1, c.state.capacity);
  const rank = (c: Candidate) => (c.id !== self?.id ? 0 : self.place === 'first' ? -1 : 1);
  const last = (c: Candidate) => (self?.place === 'last' && c.id === self.id ? 1 : 0);
  free.sort(
    (a, b) =>
      last(a) - last(b) || ratio(a) - ratio(b) || rank(a) - rank(b) || (a.id < b.id ? -1 : 1),
  );
  return free[0]?.id ?? null;
}

/**
 * Fair share: queued tasks in the order they should get workers. Each turn goes to the
 * submitter with the fewest tasks running (counting those placed earlier in this order),
 * ties to whoever waited longest; one submitter's tasks keep their own order. One person's
 * thousand tasks therefore never starve another person's one.
 */
export function fairOrder(
  queued: readonly TaskRecord[],
  running: ReadonlyMap<string, number>,
): TaskRecord[] {
  const lanes = new Map<string, TaskRecord[]>();
  for (const t of [...queued].sort((a, b) => a.seq - b.seq)) {
    const lane = lanes.get(t.submitter);
    if (lane) lane.push(t);
    else lanes.set(t.submitter, [t]);
  }
  const count = new Map(running);
  const out: TaskRecord[] = [];
  while (lanes.size > 0) {
    let best: [string, TaskRecord[]] | undefined;
    for (const entry of lanes) {
      if (!best) best = entry;
      const [who, lane] = entry;
      const [bestWho, bestLane] = best;
      const diff = (count.get(who) ?? 0) - (count.get(bestWho) ?? 0);
      if (diff < 0 || (diff === 0 && (lane[0]?.seq ?? 0) < (bestLane[0]?.seq ?? 0))) best = entry;
    }
    const [who, lane] = best as [string, TaskRecord[]];
    out.push(lane.shift() as TaskRecord);
    count.set(who, (count.get(who) ?? 0) + 1);
    if (lane.length === 0) lanes.delete(who);
  }
  return out;
}
