import * as dagJson from '@ipld/dag-json';
import type { CID } from 'multiformats/cid';
import { BadInputError, NotFoundError } from '../errors/index.ts';
import { type Logger, silentLogger } from '../log/logger.ts';
import { assertSupported, cidOf, DAG_JSON, verifyBlock } from './cid.ts';
import { collectDag } from './collect.ts';
import { StoreNotStartedError } from './errors.ts';
import { fetchVerified } from './fetch.ts';
import { addFile, addFileFromDisk, catFile, catFileToDisk } from './files.ts';
import { closeNode, type Node, openNode } from './node.ts';
import type { BlockFetcher, GetOptions, Store } from './types.ts';

export interface StoreOptions {
  /** Data directory; blocks live in `dir/blocks` and survive restarts. */
  dir: string;
  logger?: Logger;
  /** libp2p listen multiaddrs (TCP). Default none: no libp2p at all, fetchers only. */
  listen?: string[];
  /** Budget for fetching one missing block through all fetchers. Default 20 000 ms. */
  fetchBudgetMs?: number;
  /** Part of that budget bitswap may use before the other fetchers. Default 5 000 ms. */
  bitswapBudgetMs?: number;
  /** Default cap of `cat`. Default 64 MiB. */
  maxCatBytes?: number;
}

/** A Store that can also talk bitswap to peers it dials (when `listen` was given). */
export interface LocalStore extends Store {
  /** Addresses peers can dial; empty without networking or before start. */
  addresses(): string[];
  dial(addr: string, opts?: { signal?: AbortSignal }): Promise<void>;
}

export function createStore(opts: StoreOptions): LocalStore {
  const logger = (opts.logger ?? silentLogger).child({ component: 'store' });
  const fetchBudgetMs = opts.fetchBudgetMs ?? 20_000;
  const fetchers: BlockFetcher[] = [];
  let node: Node | undefined;
  let starting: Promise<void> | undefined;

  const live = (): Node => {
    if (!node) throw new StoreNotStartedError();
    return node;
  };
  const open = async () => {
    const listen = opts.listen ?? [];
    node = await openNode({
      dir: opts.dir,
      listen,
      bitswapBudgetMs: opts.bitswapBudgetMs ?? 5_000,
    });
    logger.info('store started', { dir: opts.dir, addresses: node.network?.addresses() ?? [] });
  };

  const store: LocalStore = {
    async start() {
      if (node) return;
      starting ??= open().finally(() => {
        starting = undefined;
      });
      await starting;
    },
    async stop() {
      await starting?.catch(() => {});
      const n = node;
      if (!n) return;
      node = undefined;
      await closeNode(n);
      logger.info('store stopped', { dir: opts.dir });
    },
    async putBlock(cid, bytes, o = {}) {
      verifyBlock(cid, bytes);
      await live().helia.blockstore.put(cid, bytes, { signal: o.signal });
    },
    async getBlock(cid, o = {}) {
      const { network, readLocal } = live();
      assertSupported(cid);
      const local = await readLocal(cid, o.signal);
      if (local) return local;
      if (o.offline) throw new NotFoundError(`block ${cid} is not stored locally`);
      const sources = network ? [network.fetcher, ...fetchers] : [...fetchers];
      const bytes = await fetchVerified(cid, sources, {
        signal: o.signal,
        budgetMs: fetchBudgetMs,
        logger,
      });
      await live().helia.blockstore.put(cid, bytes, { signal: o.signal });
      return bytes;
    },
    hasBlock: async (cid, o = {}) => live().helia.blockstore.has(cid, { signal: o.signal }),
    async putDag(value, o = {}) {
      let bytes: Uint8Array;
      try {
        bytes = dagJson.encode(value);
      } catch (err) {
        throw new BadInputError(`value cannot be encoded as dag-json: ${(err as Error).message}`, {
          cause: err,
        });
      }
      const cid = cidOf(DAG_JSON, bytes);
      await store.putBlock(cid, bytes, o);
      return cid;
    },
    async getDag<T>(cid: CID, o: GetOptions = {}): Promise<T> {
      if (cid.code !== DAG_JSON) throw new BadInputError(`${cid} is not a dag-json block`);
      const bytes = await store.getBlock(cid, o);
      try {
        return dagJson.decode<T>(bytes);
      } catch (err) {
        throw new BadInputError(`block ${cid} is not valid dag-json`, { cause: err });
      }
    },
    async addBytes(bytes, o = {}) {
      live();
      return addFile(store, bytes, o);
    },
    cat: (cid, o = {}) =>
      catFile(store, cid, o.maxBytes ?? opts.maxCatBytes ?? 64 * 1024 * 1024, o),
    async addFile(path, o = {}) {
      live();
      return addFileFromDisk(store, path, o);
    },
    async catToFile(cid, path, o = {}) {
      live();
      await catFileToDisk(store, cid, path, o);
    },
    collect: (root, o = {}) =>
      collectDag(
        { getBlock: store.getBlock, getCodec: (code) => live().helia.getCodec(code) },
        root,
        o,
      ),
    async *blocks(o = {}) {
      for await (const { cid } of live().blocks.getAll({ signal: o.signal })) yield cid;
    },
    peekBlock: async (cid, n) => live().peekLocal(cid, n),
    async deleteBlock(cid, o = {}) {
      await live().helia.blockstore.delete(cid, { signal: o.signal });
    },
    addFetcher(fetcher) {
      fetchers.push(fetcher);
    },
    addresses: () => node?.network?.addresses() ?? [],
    async dial(addr, o = {}) {
      const { network } = live();
      if (!network) throw new BadInputError('this store has no network: start it with `listen`');
      await network.dial(addr, o);
    },
  };
  return store;
}
