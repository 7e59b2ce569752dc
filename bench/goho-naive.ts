/**
 * The baseline GOHO of the foundation: one root block holding the whole sorted leaf set.
 * Kept here only so the benchmark can measure it next to the trie in the same run.
 */
import * as dagJson from '@ipld/dag-json';
import type { CID } from 'multiformats/cid';
import { cidOf, DAG_JSON } from '../src/store/cid.ts';
import type { Store } from '../src/store/types.ts';

export class NaiveGoho {
  readonly #store: Store;
  readonly #origin: CID;
  #keys: string[] = [];
  #cids: CID[] = [];
  head: CID;

  constructor(store: Store, origin: CID, leaves: CID[] = []) {
    this.#store = store;
    this.#origin = origin;
    this.head = origin;
    for (const c of leaves) this.#insert(c);
  }

  /** Writes the leaf, then the root with every leaf CID in it. */
  async append(leaf: unknown): Promise<CID> {
    const bytes = dagJson.encode(leaf);
    const cid = cidOf(DAG_JSON, bytes);
    await this.#store.putBlock(cid, bytes);
    if (!this.#insert(cid)) return this.head;
    return this.#commit();
  }

  /** Reads the other root (every leaf CID), adds the missing ones, writes a new root. */
  async merge(other: CID): Promise<{ head: CID; added: number }> {
    const root = dagJson.decode<{ leaves: CID[] }>(await this.#store.getBlock(other));
    let added = 0;
    for (const c of root.leaves) if (this.#insert(c)) added++;
    if (added > 0) await this.#commit();
    return { head: this.head, added };
  }

  /** Writes the root block as it is now (used to set up a baseline of n leaves). */
  async #commit(): Promise<CID> {
    this.head = await this.#store.putDag({
      type: 'goho',
      origin: this.#origin,
      leaves: this.#cids,
    });
    return this.head;
  }

  commit(): Promise<CID> {
    return this.#commit();
  }

  #insert(cid: CID): boolean {
    const key = cid.toString();
    let lo = 0;
    let hi = this.#keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#keys[mid] as string) < key) lo = mid + 1;
      else hi = mid;
    }
    if (this.#keys[lo] === key) return false;
    this.#keys.splice(lo, 0, key);
    this.#cids.splice(lo, 0, cid);
    return true;
  }
}
