import * as dagJson from '@ipld/dag-json';
import type { BlockCodec } from 'multiformats';
import type { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { BadInputError, NotFoundError } from '../errors/index.ts';
import { type Logger, silentLogger } from '../log/logger.ts';
import { assertSupported, cidOf, DAG_JSON, verifyBlock } from './cid.ts';
import { collectDag } from './collect.ts';
import { fetchVerified } from './fetch.ts';
import {
  addFile,
  addFileFromDisk,
  type CatToFileOptions,
  catFile,
  catFileToDisk,
} from './files.ts';
import type { BlockFetcher, CollectOptions, GetOptions, Store } from './types.ts';

const CODECS = new Map<number, BlockCodec<number, unknown>>([
  [dagJson.code, dagJson as BlockCodec<number, unknown>],
  [raw.code, raw as BlockCodec<number, unknown>],
]);

/**
 * A Store held in memory: same contract as the helia store (verified puts, fetchers for
 * missing blocks), without disk or network; it walks dag-json and raw blocks only. For unit tests and benchmarks of what sits
 * above the store.
 */
export function createMemoryStore(opts: { logger?: Logger; fetchBudgetMs?: number } = {}): Store & {
  readonly held: Map<string, { cid: CID; bytes: Uint8Array }>;
} {
  const blocks = new Map<string, { cid: CID; bytes: Uint8Array }>();
  const fetchers: BlockFetcher[] = [];
  const logger = opts.logger ?? silentLogger;
  const store = {
    held: blocks,
    async start() {},
    async stop() {},
    async putBlock(cid: CID, bytes: Uint8Array) {
      // A block already held is kept as it is; a new one is verified first.
      if (!blocks.has(cid.toString())) {
        verifyBlock(cid, bytes);
        blocks.set(cid.toString(), { cid, bytes });
      }
    },
    async getBlock(cid: CID, o: GetOptions = {}) {
      assertSupported(cid);
      const hit = blocks.get(cid.toString());
      if (hit) return hit.bytes;
      if (o.offline || fetchers.length === 0) {
        throw new NotFoundError(`block ${cid} is not stored locally`);
      }
      const bytes = await fetchVerified(cid, fetchers, {
        signal: o.signal,
        budgetMs: opts.fetchBudgetMs ?? 20_000,
        logger,
      });
      blocks.set(cid.toString(), { cid, bytes });
      return bytes;
    },
    hasBlock: async (cid: CID) => blocks.has(cid.toString()),
    async putDag(value: unknown) {
      let bytes: Uint8Array;
      try {
        bytes = dagJson.encode(value);
      } catch (err) {
        throw new BadInputError(`value cannot be encoded as dag-json: ${(err as Error).message}`);
      }
      const cid = cidOf(DAG_JSON, bytes);
      blocks.set(cid.toString(), { cid, bytes });
      return cid;
    },
    async getDag<T>(cid: CID, o: GetOptions = {}): Promise<T> {
      const bytes = await store.getBlock(cid, o);
      try {
        return dagJson.decode<T>(bytes);
      } catch (err) {
        throw new BadInputError(`block ${cid} is not valid dag-json`, { cause: err });
      }
    },
    addBytes: (bytes: Uint8Array, o: { signal?: AbortSignal } = {}) => addFile(store, bytes, o),
    cat: (cid: CID, o: GetOptions & { maxBytes?: number } = {}) =>
      catFile(store, cid, o.maxBytes ?? 64 * 1024 * 1024, o),
    addFile: (path: string, o: { signal?: AbortSignal } = {}) => addFileFromDisk(store, path, o),
    catToFile: (cid: CID, path: string, o: CatToFileOptions = {}) =>
      catFileToDisk(store, cid, path, o),
    collect: (root: CID, o: CollectOptions = {}) =>
      collectDag({ getBlock: store.getBlock, getCodec: (code) => codec(code) }, root, o),
    async *blocks() {
      for (const { cid } of [...blocks.values()]) yield cid;
    },
    async peekBlock(cid: CID, n: number) {
      const mh = cid.multihash.bytes.toString();
      const hit =
        blocks.get(cid.toString()) ??
        [...blocks.values()].find((b) => b.cid.multihash.bytes.toString() === mh);
      return hit?.bytes.subarray(0, n);
    },
    async deleteBlock(cid: CID) {
      blocks.delete(cid.toString());
    },
    addFetcher(fetcher: BlockFetcher) {
      fetchers.push(fetcher);
    },
  };
  return store;
}

function codec(code: number): BlockCodec<number, unknown> {
  const c = CODECS.get(code);
  if (!c) throw new BadInputError(`no codec 0x${code.toString(16)}`);
  return c;
}
