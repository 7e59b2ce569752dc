import { withBitswap } from '@helia/bitswap';
import type { Helia } from '@helia/interface';
import { withLibp2pLight } from '@helia/libp2p';
import { identify } from '@libp2p/identify';
import { noise } from '@libp2p/noise';
import { tcp } from '@libp2p/tcp';
import { yamux } from '@libp2p/yamux';
import { multiaddr } from '@multiformats/multiaddr';
import type { CID } from 'multiformats/cid';
import { NotFoundError } from '../errors/index.ts';
import type { BlockFetcher } from './types.ts';

/** The direct peer-to-peer path: TCP + noise + yamux + bitswap, nothing that dials out. */
export interface Network {
  /** Addresses peers can dial, each ending in /p2p/<peer id>. */
  addresses(): string[];
  dial(addr: string, opts?: { signal?: AbortSignal }): Promise<void>;
  /** Asks connected peers over bitswap; helia verifies the block before returning it. */
  readonly fetcher: BlockFetcher;
}

type Libp2pLike = {
  getMultiaddrs(): { toString(): string }[];
  getConnections(): unknown[];
  dial(addr: ReturnType<typeof multiaddr>, opts?: { signal?: AbortSignal }): Promise<unknown>;
};

/**
 * Adds libp2p and bitswap to a helia node. No peer discovery, no DHT, no relay, no
 * NAT traversal and no bootstrap list: the node only talks to peers it is told to dial,
 * or that dial it on `listen`.
 */
export function addNetwork(helia: Helia, listen: string[], bitswapBudgetMs: number): Network {
  const node = withBitswap(
    withLibp2pLight(helia, {
      addresses: { listen },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      peerDiscovery: [],
      services: { identify: identify() },
    }),
  );
  const libp2p = (): Libp2pLike => node.libp2p as unknown as Libp2pLike;
  return {
    addresses: () =>
      libp2p()
        .getMultiaddrs()
        .map((a) => a.toString()),
    async dial(addr, opts = {}) {
      await libp2p().dial(multiaddr(addr), { signal: opts.signal });
    },
    fetcher: {
      name: 'bitswap',
      async fetch(cid: CID, opts: { signal: AbortSignal }) {
        // With nobody connected bitswap would only wait out its budget.
        if (libp2p().getConnections().length === 0) throw new NotFoundError('no bitswap peers');
        const signal = AbortSignal.any([opts.signal, AbortSignal.timeout(bitswapBudgetMs)]);
        const chunks: Uint8Array[] = [];
        for await (const chunk of node.blockstore.get(cid, { signal })) chunks.push(chunk);
        return Buffer.concat(chunks);
      },
    },
  };
}
