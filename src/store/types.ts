import type { CID } from 'multiformats/cid';

export interface GetOptions {
  signal?: AbortSignal;
  /** Only read the local store; never ask the network. Default false. */
  offline?: boolean;
}

export interface CollectOptions extends GetOptions {
  /** Most blocks listed; past it collect throws TOO_LARGE (unless `partial`). Default 10,000. */
  maxBlocks?: number;
  /**
   * Lists what it can instead of throwing: the first `maxBlocks` breadth-first, and (with
   * `offline`) without the blocks missing here and what is below them. For answering a peer
   * with part of a DAG too big to send at once; the peer asks again for the rest.
   */
  partial?: boolean;
}

/**
 * Something that can fetch a block this node lacks (the Matrix room, bitswap, ...).
 * The store verifies every fetched block against its CID before keeping it.
 */
export interface BlockFetcher {
  readonly name: string;
  fetch(cid: CID, opts: { signal: AbortSignal }): Promise<Uint8Array>;
}

/** The node's content-addressed block store: helia with a persistent block store on disk. */
export interface Store {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Stores raw bytes of a block whose CID is given; verifies them first. */
  putBlock(cid: CID, bytes: Uint8Array, opts?: { signal?: AbortSignal }): Promise<void>;
  getBlock(cid: CID, opts?: GetOptions): Promise<Uint8Array>;
  hasBlock(cid: CID, opts?: { signal?: AbortSignal }): Promise<boolean>;
  /** Encodes a value as dag-json, stores it, returns its CID. */
  putDag(value: unknown, opts?: { signal?: AbortSignal }): Promise<CID>;
  getDag<T = unknown>(cid: CID, opts?: GetOptions): Promise<T>;
  /** Adds bytes as a UnixFS file; returns the file's root CID. */
  addBytes(bytes: Uint8Array, opts?: { signal?: AbortSignal }): Promise<CID>;
  /** Reads a whole UnixFS file (or a raw / dag-json block as bytes), up to maxBytes. */
  cat(cid: CID, opts?: GetOptions & { maxBytes?: number }): Promise<Uint8Array>;
  /**
   * Streams a file from disk into UnixFS with addBytes' settings: the same bytes give the same
   * CID either way. Returns the file's root CID.
   */
  addFile(path: string, opts?: { signal?: AbortSignal }): Promise<CID>;
  /**
   * Streams a UnixFS file (or a raw / dag-json block) to `path`, fetching missing blocks like
   * `cat`. Written under a temporary name beside `path`, renamed when complete; on failure
   * nothing is left. `maxBytes` (default: no cap, it goes to disk) stops with TOO_LARGE;
   * `onProgress` gets the bytes written so far after each chunk.
   */
  catToFile(
    cid: CID,
    path: string,
    opts?: GetOptions & { maxBytes?: number; onProgress?: (bytes: number) => void },
  ): Promise<void>;
  /** Every block CID reachable from root (for shipping a DAG to a peer), bounded. */
  collect(root: CID, opts?: CollectOptions): Promise<CID[]>;
  /**
   * Every block stored locally, by a CID whose multihash names it. Its codec may not be the
   * one the block was stored under: blockstore-fs files blocks by multihash alone (and lists
   * them as CIDv0), so match what this gives by multihash.
   */
  blocks(opts?: { signal?: AbortSignal }): AsyncIterable<CID>;
  /**
   * Up to the first `n` bytes of a local block (matched by multihash), without reading the
   * rest; undefined when it is not stored. Never fetches.
   */
  peekBlock(cid: CID, n: number, opts?: { signal?: AbortSignal }): Promise<Uint8Array | undefined>;
  /**
   * Says that the caller uses a block it holds decoded (a cache hit) without reading it here:
   * a garbage collection running meanwhile keeps it (archivist/barrier.ts). Optional: a store
   * nothing collects beside its users needs none.
   */
  touch?(cid: CID): void;
  /**
   * A number that changes whenever a garbage collection begins (archivist/barrier.ts). A
   * block read (and held decoded) before it last changed may be gone, or go with the
   * collection running: ask for it here again (or write it) before linking to it; one read,
   * written or asked for since stays. Optional: a store nothing collects beside its users
   * needs none.
   */
  gcEpoch?(): number;
  /** Deletes a block from the local store (garbage collection). */
  deleteBlock(cid: CID, opts?: { signal?: AbortSignal }): Promise<void>;
  /** Registers a fetcher used when a block is missing locally. */
  addFetcher(fetcher: BlockFetcher): void;
}
