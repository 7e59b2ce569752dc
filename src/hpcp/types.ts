import type { UserId } from '../ids.ts';
import type { BudgetLimits } from '../lattice/budget.ts';
import type { Goho } from '../lattice/types.ts';
import type { Logger } from '../log/logger.ts';
import type { MeshClient } from '../matrix/types.ts';
import type { Store } from '../store/types.ts';

/** How a node paces HPCP in a room. Defaults suit a homeserver allowing ~0.2 messages/s. */
export interface HpcpOptions {
  /** Local changes within this window go out as one announcement, ms. Default 1000. */
  announceDelayMs: number;
  /** One rank step before announcing a merged head nobody announced yet, ms. Default 1500. */
  mergeDelayMs: number;
  /** One rank step before answering a head request, ms. Default 1000. */
  answerDelayMs: number;
  /** Fewest ms between two answers to head requests from this node. Default 5000. */
  answerIntervalMs: number;
  /** Longest a merge of an announced head may take, blocks fetched included, ms. Default 60000. */
  mergeTimeoutMs: number;
  /** What one merge may read. */
  budget: BudgetLimits;
  /** Largest CAR file of announced blocks downloaded, bytes. Default 16 MiB. */
  maxCarBytes: number;
}

export const DEFAULT_HPCP: HpcpOptions = {
  announceDelayMs: 1000,
  mergeDelayMs: 1500,
  answerDelayMs: 1000,
  answerIntervalMs: 5000,
  mergeTimeoutMs: 60_000,
  budget: { maxBlocks: 250_000, maxBytes: 256 * 1024 * 1024 },
  maxCarBytes: 16 * 1024 * 1024,
};

/** The direct path to peers, when this node listens for bitswap. */
export interface PeerNetwork {
  addresses(): string[];
  dial(addr: string, opts?: { signal?: AbortSignal }): Promise<void>;
}

/** What HPCP needs in one room. */
export interface RoomHpcpDeps {
  client: MeshClient;
  store: Store;
  log: Logger;
  self: UserId;
  /** The room's GOHOs, by origin CID string. */
  gohos: ReadonlyMap<string, Goho>;
  /** Runs a change to the room's GOHOs while no other change runs. */
  exclusive<T>(job: () => Promise<T>): Promise<T>;
  /** Told after a merge moved a GOHO's head (to persist it, pin it, ...). */
  merged(goho: Goho): Promise<void>;
  /** Whether a sender is a node the mesh admits in this room. */
  isNode(user: UserId): boolean;
  /** The room's live nodes. */
  nodes(): UserId[];
  network?: PeerNetwork;
  options: HpcpOptions;
  /** Aborted when the node stops. */
  signal?: AbortSignal;
}
