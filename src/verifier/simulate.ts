/**
 * A seeded simulation of the Verifier, for tests and benchmarks: the real TrustBook,
 * planReplicas, pickReplicaNodes and decide run over a stream of tasks in a mesh of honest
 * nodes and one node under test (the suspect), each node run by a different owner.
 */
import { decide, type ReplicaResult } from './quorum.ts';
import { pickReplicaNodes, planReplicas, type ReplicaCandidate } from './replication.ts';
import { TrustBook } from './trust.ts';
import { type Random, VERIFIER_DEFAULTS, type VerifierOptions } from './types.ts';

/** mulberry32: a small, fast PRNG with a 32-bit state; one seed gives one replayable run. */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface CheaterScenario {
  seed: number;
  /** The chance the suspect cheats on each of its tasks once it starts; 1 = always, 0 = never. */
  cheatRate: number;
  /** The suspect's first tasks, run honestly to earn trust before it starts cheating. */
  honestFor?: number;
  /** Honest nodes besides the suspect; at least 2, so a disagreement can be settled. */
  honestNodes: number;
  tasks: number;
  opts?: VerifierOptions;
  /**
   * Whether the suspect also runs replicas that check others' tasks, as any node of a real
   * mesh does (default true). False is the worst case: only spot checks of its own tasks,
   * each with probability q, can catch it.
   */
  checksOthers?: boolean;
  /** End the run when the suspect is quarantined. */
  stopWhenCaught?: boolean;
}

export interface CpuTally {
  /** Replicas run beyond the first of each task. */
  verificationCpu: number;
  /** One unit per task. */
  usefulCpu: number;
}

export interface SimulationResult extends CpuTally {
  /** The suspect's tasks from its first possible cheat to its quarantine; null: never caught. */
  caughtAfter: number | null;
  /** The same tally over tasks whose first worker was trusted: the cost after warm-up. */
  steady: CpuTally;
  /** Wrong results accepted because no spot check compared them. */
  wrongAccepted: number;
  /** Tasks that ended without a quorum. */
  undecided: number;
  quarantined: string[];
}

export const SUSPECT = 'suspect';

interface Run {
  s: Required<Omit<CheaterScenario, 'opts'>> & { opts: VerifierOptions };
  random: Random;
  trust: TrustBook;
  nodes: ReplicaCandidate[];
  /** The suspect's tasks so far, in any role it plays in the scenario. */
  suspectTasks: number;
  out: SimulationResult;
}

export function simulateCheater(scenario: CheaterScenario): SimulationResult {
  const s = { honestFor: 0, checksOthers: true, stopWhenCaught: false, ...scenario };
  const opts = s.opts ?? VERIFIER_DEFAULTS;
  const trust = new TrustBook(opts);
  const ids = [SUSPECT, ...Array.from({ length: s.honestNodes }, (_, i) => `honest-${i}`)];
  for (const id of ids) trust.setOwner(id, `owner-of-${id}`);
  const tally = () => ({ verificationCpu: 0, usefulCpu: 0 });
  const run: Run = {
    s: { ...s, opts },
    random: mulberry32(s.seed),
    trust,
    nodes: ids.map((id) => ({ id, owner: `owner-of-${id}` })),
    suspectTasks: 0,
    out: {
      caughtAfter: null,
      ...tally(),
      steady: tally(),
      wrongAccepted: 0,
      undecided: 0,
      quarantined: [],
    },
  };
  for (let task = 0; task < s.tasks; task++) {
    runTask(run, task);
    if (s.stopWhenCaught && run.out.caughtAfter !== null) break;
  }
  run.out.quarantined = trust
    .all()
    .filter((t) => t.quarantined)
    .map((t) => t.node);
  return run.out;
}

/** One task: plan its replicas, run them, settle by quorum, update trust and the tallies. */
function runTask(run: Run, task: number): void {
  const { trust, random, out } = run;
  const opts = run.s.opts;
  const live = run.nodes.filter((n) => !trust.isQuarantined(n.id));
  const first = live[Math.floor(random() * live.length)];
  if (!first) return;
  const trusted = trust.isTrusted(first.id);
  const planned = planReplicas({ worker: trust.get(first.id), random }, opts);
  // Checkers in random order, so the checking work spreads over the mesh.
  const pool = shuffle(
    live.filter((n) => n !== first && (run.s.checksOthers || n.id !== SUSPECT)),
    random,
  );
  const runners = [first];
  const results = [execute(run, first.id, task)];
  const addReplicas = (n: number): boolean => {
    const used = { ids: runners.map((r) => r.id), owners: runners.map((r) => r.owner) };
    const more = pickReplicaNodes(pool, used, n);
    runners.push(...more);
    results.push(...more.map((r) => execute(run, r.id, task)));
    return more.length === n;
  };
  if (planned === 1) {
    trust.unchecked(first.id);
    if (results[0]?.value !== rightValue(task)) out.wrongAccepted += 1;
  } else {
    addReplicas(planned - 1);
    settle(run, task, results, addReplicas);
  }
  for (const t of trusted ? [out, out.steady] : [out]) {
    t.usefulCpu += 1;
    t.verificationCpu += runners.length - 1;
  }
}

function settle(
  run: Run,
  task: number,
  results: ReplicaResult[],
  addReplicas: (n: number) => boolean,
): void {
  const { trust, out } = run;
  const { quorum, maxReplicas } = run.s.opts;
  let decision = decide(results, { quorum, maxReplicas });
  while (decision.kind === 'need-more' && addReplicas(decision.replicasWanted)) {
    decision = decide(results, { quorum, maxReplicas });
  }
  if (decision.kind !== 'agreed') {
    out.undecided += 1;
    for (const r of results) trust.undecided(r.node, task);
    return;
  }
  if (decision.value !== rightValue(task)) out.wrongAccepted += 1;
  for (const node of decision.agreeing) trust.agreed(node, task);
  for (const node of decision.dissenting) {
    const caught = trust.disagreed(node, `task ${task}: its result was outvoted`, task);
    if (caught && node === SUSPECT) {
      out.caughtAfter = run.suspectTasks - run.s.honestFor;
    }
  }
}

/** A node's result: honest nodes are always right; a cheater's wrong result is its own. */
function execute(run: Run, node: string, task: number): ReplicaResult {
  if (node !== SUSPECT) return { node, value: rightValue(task) };
  run.suspectTasks += 1;
  const cheating = run.suspectTasks > run.s.honestFor && run.random() < run.s.cheatRate;
  return { node, value: cheating ? `wrong-${task}-${node}` : rightValue(task) };
}

const rightValue = (task: number) => `right-${task}`;

function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}
