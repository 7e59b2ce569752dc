/**
 * The trust a node has earned, BOINC style: a run of results that a quorum confirmed makes a
 * node trusted (its work is then only spot-checked); one result a quorum rejected quarantines
 * it until its owner releases it. Pure bookkeeping: times are passed in, nothing is sent — the
 * caller tells the room when `disagreed` reports a new quarantine.
 */
import { BadInputError, describeIssues } from '../errors/index.ts';
import {
  type NodeTrust,
  type TrustSnapshot,
  trustSnapshotSchema,
  VERIFIER_DEFAULTS,
  type VerifierOptions,
} from './types.ts';

/** Whether a node's record earns it spot checks instead of full replication. */
export function isTrustedRecord(
  t: Pick<NodeTrust, 'streak' | 'quarantined'>,
  warmup: number,
): boolean {
  return !t.quarantined && t.streak >= warmup;
}

export class TrustBook {
  readonly #warmup: number;
  // A Map, not an object: node ids come from peers and may be `__proto__`.
  #nodes = new Map<string, NodeTrust>();

  constructor(opts: Pick<VerifierOptions, 'warmup'> = VERIFIER_DEFAULTS) {
    this.#warmup = opts.warmup;
  }

  /** Records who runs a node. Until then a node counts as its own owner (never shares one). */
  setOwner(node: string, owner: string): void {
    this.#record(node).owner = owner;
  }

  /** A copy of the node's record; a node never seen has a fresh, untrusted one. */
  get(node: string): NodeTrust {
    return { ...(this.#nodes.get(node) ?? fresh(node)) };
  }

  all(): NodeTrust[] {
    return [...this.#nodes.values()].map((t) => ({ ...t }));
  }

  /** A quorum confirmed one of the node's results. */
  agreed(node: string, now: number): void {
    const t = this.#record(node);
    t.agreed += 1;
    t.streak += 1;
    t.checked += 1;
    t.lastCheckedAt = now;
  }

  /**
   * A quorum rejected one of the node's results: it is quarantined at once, since one wrong
   * answer already shows it cannot be relied on. True when this newly quarantined it, so the
   * caller tells the room once, not per rejected result.
   */
  disagreed(node: string, reason: string, now: number): boolean {
    const t = this.#record(node);
    t.disagreed += 1;
    t.streak = 0;
    t.checked += 1;
    t.lastCheckedAt = now;
    if (t.quarantined) return false;
    t.quarantined = true;
    t.quarantinedAt = now;
    t.reason = reason;
    return true;
  }

  /** The node's result was compared but no quorum formed: nobody can be blamed or credited. */
  undecided(node: string, now: number): void {
    const t = this.#record(node);
    t.checked += 1;
    t.lastCheckedAt = now;
  }

  /** The node's result was accepted without a second replica (the spot check skipped it). */
  unchecked(node: string): void {
    this.#record(node).unchecked += 1;
  }

  isTrusted(node: string): boolean {
    const t = this.#nodes.get(node);
    return t !== undefined && isTrustedRecord(t, this.#warmup);
  }

  isQuarantined(node: string): boolean {
    return this.#nodes.get(node)?.quarantined === true;
  }

  /**
   * The owner readmits a quarantined node. It starts its warm-up again: whatever made it
   * cheat may not be fixed, so its work is fully replicated until it earns trust anew.
   * True when the node was quarantined.
   */
  release(node: string): boolean {
    const t = this.#nodes.get(node);
    if (!t?.quarantined) return false;
    t.quarantined = false;
    t.streak = 0;
    delete t.quarantinedAt;
    delete t.reason;
    return true;
  }

  snapshot(): TrustSnapshot {
    return { version: 1, nodes: this.all() };
  }

  /**
   * Replaces the book with a snapshot. A snapshot is data from disk or a peer: it is
   * validated whole first, so a bad one throws BadInputError and leaves the book unchanged.
   */
  restore(snapshot: unknown): void {
    const parsed = trustSnapshotSchema.safeParse(snapshot);
    if (!parsed.success) {
      throw new BadInputError(`invalid trust snapshot: ${describeIssues(parsed.error)}`);
    }
    this.#nodes = new Map(parsed.data.nodes.map((t) => [t.node, { ...t }]));
  }

  #record(node: string): NodeTrust {
    let t = this.#nodes.get(node);
    if (!t) {
      t = fresh(node);
      this.#nodes.set(node, t);
    }
    return t;
  }
}

function fresh(node: string): NodeTrust {
  return {
    node,
    owner: node,
    agreed: 0,
    disagreed: 0,
    streak: 0,
    quarantined: false,
    checked: 0,
    unchecked: 0,
  };
}
