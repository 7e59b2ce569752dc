import type { CID } from 'multiformats/cid';
import type { GetOptions } from './types.ts';

/** What @helia/unixfs needs from a blockstore, routed through the verifying Store calls. */
export interface UnixfsBlockstore {
  get(cid: CID, options?: { signal?: AbortSignal }): AsyncGenerator<Uint8Array>;
  put(
    cid: CID,
    bytes: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
    options?: { signal?: AbortSignal },
  ): Promise<CID>;
  has(cid: CID, options?: { signal?: AbortSignal }): Promise<boolean>;
}

export interface BlockIo {
  getBlock(cid: CID, opts?: GetOptions): Promise<Uint8Array>;
  putBlock(cid: CID, bytes: Uint8Array, opts?: { signal?: AbortSignal }): Promise<void>;
  hasBlock(cid: CID, opts?: { signal?: AbortSignal }): Promise<boolean>;
}

/** Adapts the Store to unixfs so that every read goes through the fetchers. */
export function unixfsBlockstore(io: BlockIo, defaults: GetOptions = {}): UnixfsBlockstore {
  return {
    async *get(cid, options = {}) {
      yield await io.getBlock(cid, { ...defaults, signal: options.signal ?? defaults.signal });
    },
    async put(cid, bytes, options = {}) {
      await io.putBlock(cid, await concat(bytes), { signal: options.signal ?? defaults.signal });
      return cid;
    },
    has: (cid, options = {}) => io.hasBlock(cid, { signal: options.signal ?? defaults.signal }),
  };
}

/** Reads a helia-style chunked block value into one buffer. */
export async function concat(
  value: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>,
): Promise<Uint8Array> {
  if (value instanceof Uint8Array) return value;
  const chunks: Uint8Array[] = [];
  for await (const chunk of value) chunks.push(chunk);
  return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks);
}
