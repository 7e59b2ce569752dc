/**
 * How many times a task runs and where. Adaptive replication as BOINC does it: a node in
 * warm-up has every task replicated; a trusted node has each task spot-checked independently
 * with probability q, so a cheater can never tell which of its results will be compared.
 */
import { BadInputError } from '../errors/index.ts';
import { isTrustedRecord } from './trust.ts';
import { type NodeTrust, type Random, VERIFIER_DEFAULTS, type VerifierOptions } from './types.ts';

export interface PlanParams {
  /** `replicas=k` from the task, 1..maxReplicas: the person's explicit choice wins. */
  requested?: number;
  /** The trust of the task's first worker. */
  worker: Pick<NodeTrust, 'streak' | 'quarantined'>;
  random: Random;
}

/**
 * The total number of replicas the task runs, the first worker's included. A check runs
 * `quorum` replicas (2 by default), the least that can confirm a result.
 */
export function planReplicas(
  params: PlanParams,
  opts: VerifierOptions = VERIFIER_DEFAULTS,
): number {
  const { requested } = params;
  if (requested !== undefined) {
    if (!Number.isInteger(requested) || requested < 1 || requested > opts.maxReplicas) {
      throw new BadInputError(`replicas must be a whole number from 1 to ${opts.maxReplicas}`);
    }
    return requested;
  }
  if (!isTrustedRecord(params.worker, opts.warmup)) return opts.quorum;
  // One draw per task, whatever came before: checks are independent, hence unpredictable.
  return params.random() < opts.spotCheckRate ? opts.quorum : 1;
}

export interface ReplicaCandidate {
  id: string;
  owner: string;
  quarantined?: boolean;
}

export interface ReplicaExclusions {
  /** Nodes that already run the task. */
  ids: readonly string[];
  /** Owners whose nodes already run the task. */
  owners: readonly string[];
}

/**
 * Up to `n` nodes for more replicas, in the candidates' order (the caller ranks them, e.g. by
 * load). Owners not yet used come first, since one person's two nodes checking each other
 * prove little; same-owner nodes fill in only when no other owner is left. Quarantined nodes
 * and nodes already running the task are never picked. Fewer than `n` when not enough nodes
 * are left; the caller reports that.
 */
export function pickReplicaNodes(
  candidates: readonly ReplicaCandidate[],
  exclude: ReplicaExclusions,
  n: number,
): ReplicaCandidate[] {
  const taken = new Set(exclude.ids);
  const owners = new Set(exclude.owners);
  const eligible = candidates.filter((c) => !c.quarantined && !taken.has(c.id));
  const picked: ReplicaCandidate[] = [];
  const pick = (c: ReplicaCandidate) => {
    picked.push(c);
    taken.add(c.id);
    owners.add(c.owner);
  };
  for (const c of eligible) {
    if (picked.length >= n) break;
    if (!owners.has(c.owner) && !taken.has(c.id)) pick(c);
  }
  for (const c of eligible) {
    if (picked.length >= n) break;
    if (!taken.has(c.id)) pick(c);
  }
  return picked;
}
