import type { RoomId, UserId } from '../ids.ts';
import type { Logger } from '../log/logger.ts';
import type { MeshClient } from '../matrix/types.ts';
import type { HeadsFile } from '../node/heads-file.ts';
import type { Store } from '../store/types.ts';
import type { GcBarrier } from './barrier.ts';

export interface ArchivistOptions {
  /** Whether this node pins the newest head of each GOHO of its rooms. Default true. */
  enabled: boolean;
  /** The person who runs this node, named in its archive reports. */
  owner: UserId;
  /** Pins are reported to the room at most once per this many ms. Default 60 000. */
  reportDelayMs: number;
  /** A head unchanged this long that fewer than two owners hold is warned about, ms. Default 180 000. */
  warnAfterMs: number;
  /** Longest a pin may take to fetch what it lacks, ms. Default 120 000. */
  pinTimeoutMs: number;
}

export const DEFAULT_ARCHIVIST: Omit<ArchivistOptions, 'owner'> = {
  enabled: true,
  reportDelayMs: 60_000,
  warnAfterMs: 180_000,
  pinTimeoutMs: 120_000,
};

/**
 * How often a running node collects old GOHO versions, minutes (`archive.gcIntervalMinutes`).
 * Off unless asked for: collecting beside a running node is new in this version, and what it
 * saves (some kilobytes per task) is worth less than the risk of a race still unfound.
 */
export const DEFAULT_GC_INTERVAL_MINUTES = 0;
/** A week: past 2^31 ms (about 24.8 days) a Node timer fires at once. */
export const MAX_GC_INTERVAL_MINUTES = 7 * 24 * 60;

export interface ArchivistDeps {
  store: Store;
  client: MeshClient;
  log: Logger;
  self: UserId;
  /** origin -> pinned head, kept across restarts. */
  pins: HeadsFile;
  isNode(room: RoomId, user: UserId): boolean;
  options: ArchivistOptions;
  /** The barrier `store` is guarded by, when the node runs while garbage is collected. */
  barrier?: GcBarrier;
  signal?: AbortSignal;
}
