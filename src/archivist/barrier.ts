import * as dagJson from '@ipld/dag-json';
import type { CID } from 'multiformats/cid';
import { cidOf, DAG_JSON } from '../store/cid.ts';
import type { Store } from '../store/types.ts';
import { GcBusyError } from './errors.ts';
import { blockKey } from './mark.ts';

/**
 * What a collection sees of the store: its own reads, which keep nothing, and deletions that
 * give way to the node.
 */
export interface GcSession {
  /** The store as the collector reads it. */
  readonly store: Store;
  /**
   * Deletes a block unless the node used it since the session began; false when it did (the
   * block then stays). The deletion is never cut short: check the signal between calls.
   */
  delete(cid: CID): Promise<boolean>;
  end(): void;
}

/** A session over a store nothing else uses (a stopped node's, from the command line). */
export function plainSession(store: Store): GcSession {
  return {
    store,
    delete: async (cid) => {
      await store.deleteBlock(cid);
      return true;
    },
    end: () => {},
  };
}

/**
 * A write barrier between a running node and garbage collection. A collection decides from
 * the heads it read at one moment; a change made after that writes blocks no kept head reaches
 * yet, or writes again an old block (same content, same CID) it then links to, and a reader
 * may still be walking an old version. So every block the node names through the guarded
 * store while a collection runs is kept, and a call on a block being deleted waits for the
 * deletion, which puts the block back when the call came meanwhile.
 */
export class GcBarrier {
  readonly #raw: Store;
  #touched: Set<string> | undefined;
  readonly #deleting = new Map<string, Promise<void>>();
  /**
   * Collections begun (Store.gcEpoch). A block the node named since the last began is noted
   * by it and stays; one named before may be deleted, and is to be named again.
   */
  #epoch = 0;

  /** `raw`: the store under the guard, which the collector reads without keeping anything. */
  constructor(raw: Store) {
    this.#raw = raw;
  }

  /** The store for the rest of the node: the same blocks; what it names during a collection stays. */
  guard<S extends Store>(store: S): S {
    const note = (cid: CID) => this.#note(cid);
    return {
      ...store,
      putBlock: async (cid, bytes, o) => {
        await note(cid);
        return store.putBlock(cid, bytes, o);
      },
      getBlock: async (cid, o) => {
        await note(cid);
        return store.getBlock(cid, o);
      },
      hasBlock: async (cid, o) => {
        await note(cid);
        return store.hasBlock(cid, o);
      },
      getDag: async (cid, o) => {
        await note(cid);
        return store.getDag(cid, o);
      },
      // Noted before it is written: a block written and then deleted before the note would
      // be gone for good.
      putDag: async (value, o) => {
        const block = encodeDag(value);
        if (!block) return store.putDag(value, o);
        await note(block.cid);
        await store.putBlock(block.cid, block.bytes, o);
        return block.cid;
      },
      // A file's CID is known once it is written: noted then, and written again when a
      // deletion of the same multihash (an old GOHO block with its bytes) took it meanwhile.
      // Its root only, which is all of a file of one chunk (up to 1 MiB); a chunk of a bigger
      // file with a GOHO block's bytes is still the README's known limit.
      addBytes: async (bytes, o) => {
        const cid = await store.addBytes(bytes, o);
        await note(cid);
        if (!(await store.hasBlock(cid, o))) await store.addBytes(bytes, o);
        return cid;
      },
      addFile: async (path, o) => {
        const cid = await store.addFile(path, o);
        await note(cid);
        if (!(await store.hasBlock(cid, o))) await store.addFile(path, o);
        return cid;
      },
      cat: async (cid, o) => {
        await note(cid);
        return store.cat(cid, o);
      },
      catToFile: async (cid, path, o) => {
        await note(cid);
        return store.catToFile(cid, path, o);
      },
      collect: async (root, o) => {
        await note(root);
        return store.collect(root, o);
      },
      // A cache hit (lattice/trie-node.ts): the caller has the block decoded and may link to
      // it, so it stays; a deletion under way puts it back.
      touch: (cid) => {
        this.#touched?.add(blockKey(cid));
      },
      gcEpoch: () => this.#epoch,
    };
  }

  /** Starts a collection's session; one at a time (GcBusyError). */
  begin(): GcSession {
    if (this.#touched) throw new GcBusyError();
    const touched = new Set<string>();
    this.#touched = touched;
    this.#epoch++;
    return {
      store: this.#raw,
      delete: (cid) => this.#delete(cid, touched),
      end: () => {
        if (this.#touched === touched) this.#touched = undefined;
      },
    };
  }

  async #note(cid: CID): Promise<void> {
    const key = blockKey(cid);
    this.#touched?.add(key);
    await this.#deleting.get(key);
  }

  async #delete(cid: CID, touched: Set<string>): Promise<boolean> {
    const key = blockKey(cid);
    if (touched.has(key)) return false;
    let done = () => {};
    this.#deleting.set(
      key,
      new Promise<void>((resolve) => {
        done = resolve;
      }),
    );
    try {
      const bytes = await this.#raw.getBlock(cid, { offline: true }).catch(() => undefined);
      if (!bytes) return false;
      await this.#raw.deleteBlock(cid);
      if (!touched.has(key)) return true;
      await this.#raw.putBlock(cid, bytes);
      return false;
    } finally {
      this.#deleting.delete(key);
      done();
    }
  }
}

/** The block putDag makes of a value, or undefined when it cannot be encoded (putDag says why). */
function encodeDag(value: unknown): { cid: CID; bytes: Uint8Array } | undefined {
  try {
    const bytes = dagJson.encode(value);
    return { cid: cidOf(DAG_JSON, bytes), bytes };
  } catch {
    return undefined;
  }
}
