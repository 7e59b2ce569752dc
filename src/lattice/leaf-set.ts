import type { CID } from 'multiformats/cid';
import { rememberLeafCid } from './fold.ts';
import type { Leaf } from './schema.ts';

/**
 * The in-memory mirror of one head: leaf CIDs sorted by string form (the order the root
 * block stores them in) plus a cache of the decoded leaves. Leaves are immutable, so the
 * cache never goes stale.
 */
export class LeafSet {
  readonly cids: CID[] = [];
  private readonly keys: string[] = [];
  private readonly decoded = new Map<string, Leaf>();
  private readonly keyedAppends = new Set<string>();
  private clock = 0;

  constructor(cids: readonly CID[] = []) {
    for (const cid of cids) this.addCid(cid);
  }

  get size(): number {
    return this.keys.length;
  }

  has(cid: CID): boolean {
    const key = cid.toString();
    return this.keys[this.lowerBound(key)] === key;
  }

  /** Inserts a CID in sorted position; false when it was already there. */
  addCid(cid: CID): boolean {
    const key = cid.toString();
    const lo = this.lowerBound(key);
    if (this.keys[lo] === key) return false;
    this.keys.splice(lo, 0, key);
    this.cids.splice(lo, 0, cid);
    return true;
  }

  /** The sorted CID list with extra CIDs added, leaving this set as it is. */
  cidsWith(extra: readonly CID[]): CID[] {
    const byKey = new Map(extra.map((cid) => [cid.toString(), cid] as const));
    for (const key of this.keys) byKey.delete(key);
    const merged = [...this.cids, ...byKey.values()];
    return merged.sort((a, b) => (a.toString() < b.toString() ? -1 : 1));
  }

  /** Records the decoded body of a leaf already in the set. */
  remember(cid: CID, leaf: Leaf): void {
    const key = cid.toString();
    if (this.decoded.has(key)) return;
    rememberLeafCid(leaf, key);
    this.decoded.set(key, leaf);
    this.clock = Math.max(this.clock, leaf.clock);
    if (leaf.action === 'append' && leaf.key !== undefined) {
      this.keyedAppends.add(`${leaf.path}\n${leaf.key}`);
    }
  }

  /** CIDs whose leaves are not decoded yet. */
  undecoded(): CID[] {
    return this.cids.filter((cid) => !this.decoded.has(cid.toString()));
  }

  /** Decoded leaves in canonical order; call after every leaf was remembered. */
  leaves(): Leaf[] {
    return this.keys.map((key) => this.decoded.get(key) as Leaf);
  }

  /** Highest clock among the decoded leaves (0 when empty). */
  maxClock(): number {
    return this.clock;
  }

  hasKeyedAppend(path: string, key: string): boolean {
    return this.keyedAppends.has(`${path}\n${key}`);
  }

  private lowerBound(key: string): number {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.keys[mid] as string) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
