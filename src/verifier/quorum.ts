/**
 * Whether the results of one task's replicas settle it. Results are grouped by equality —
 * CID string equality by default, since deterministic engines give identical outputs, or an
 * engine's own comparator where outputs legitimately vary (whisper: word error rate).
 */
import { BadInputError } from '../errors/index.ts';
import { VERIFIER_DEFAULTS } from './types.ts';

export interface ReplicaResult {
  node: string;
  /** The result's CID, or what the comparator reads (a transcript). */
  value: string;
}

export type Comparator = (a: string, b: string) => boolean;

export interface DecideOptions {
  /** Equal results needed to accept a value. */
  quorum: number;
  /** Whether two results count as equal; default: string equality (CIDs). */
  compare?: Comparator;
  /** The most replicas the task may run; default 5. */
  maxReplicas?: number;
}

export type Decision =
  | { kind: 'agreed'; value: string; agreeing: string[]; dissenting: string[] }
  /** Run this many more replicas, then decide again. */
  | { kind: 'need-more'; replicasWanted: number }
  /** No quorum can form within maxReplicas: nobody is credited or blamed. */
  | { kind: 'undecided' };

interface Group {
  value: string;
  nodes: string[];
  /** Every member's value, the first being `value`. */
  values: string[];
}

/**
 * Settles a task from the results so far. A node counts once (its first result), so one node
 * cannot outvote others by answering twice. A comparator need not be transitive (a WER
 * threshold is not): each result joins the first group whose first value it matches, and one
 * outside the agreeing group is blamed only when it matches none of that group's results.
 */
export function decide(results: readonly ReplicaResult[], opts: DecideOptions): Decision {
  const { quorum, compare = (a, b) => a === b, maxReplicas = VERIFIER_DEFAULTS.maxReplicas } = opts;
  if (!Number.isInteger(quorum) || quorum < 1) throw new BadInputError('quorum must be ≥ 1');
  const seen = new Set<string>();
  const groups: Group[] = [];
  for (const r of results) {
    if (seen.has(r.node)) continue;
    seen.add(r.node);
    const group = groups.find((g) => compare(g.value, r.value));
    if (group) {
      group.nodes.push(r.node);
      group.values.push(r.value);
    } else groups.push({ value: r.value, nodes: [r.node], values: [r.value] });
  }
  const ranked = [...groups].sort((a, b) => b.nodes.length - a.nodes.length);
  const [best, second] = ranked;
  const largest = best?.nodes.length ?? 0;
  // Two groups that both reach quorum with the same size leave no answer: ask one more node.
  const tied = second !== undefined && second.nodes.length === largest;
  if (best && largest >= quorum && !tied) {
    // A comparator that is not transitive may put a result beside the agreeing group that
    // matches one of its members all the same: that is no evidence against its node.
    const rejected = (v: string) => !best.values.some((agreed) => compare(agreed, v));
    const dissenting = groups
      .filter((g) => g !== best)
      .flatMap((g) => g.nodes.filter((_, i) => rejected(g.values[i] ?? '')));
    return { kind: 'agreed', value: best.value, agreeing: best.nodes, dissenting };
  }
  const wanted = Math.max(1, quorum - largest);
  if (seen.size + wanted > maxReplicas) return { kind: 'undecided' };
  return { kind: 'need-more', replicasWanted: wanted };
}

/** The words a transcript is compared by: case and punctuation are not errors. */
function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/\s+/)
    .map((w) => w.replace(/[\p{P}\p{S}]+/gu, ''))
    .filter((w) => w.length > 0);
}

/**
 * Word error rate between two transcripts: word-level Levenshtein distance divided by the
 * longer one's length, so the measure is symmetric (neither replica is the reference).
 */
export function wordErrorRate(a: string, b: string): number {
  const x = words(a);
  const y = words(b);
  const longer = Math.max(x.length, y.length);
  if (longer === 0) return 0;
  // Two rows of the edit-distance table: memory O(|y|) even for hour-long transcripts.
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      const substitute = (prev[j - 1] ?? 0) + (x[i - 1] === y[j - 1] ? 0 : 1);
      row.push(Math.min(substitute, (prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1));
    }
    prev = row;
  }
  return (prev[y.length] ?? 0) / longer;
}

/** Whisper's comparator: two transcripts agree when their WER is at most `threshold`. */
export function werComparator(threshold = 0.1): Comparator {
  return (a, b) => wordErrorRate(a, b) <= threshold;
}
