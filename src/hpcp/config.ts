import { z } from 'zod';
import {
  DEFAULT_ARCHIVIST,
  DEFAULT_GC_INTERVAL_MINUTES,
  MAX_GC_INTERVAL_MINUTES,
} from '../archivist/types.ts';
import { timerMs } from '../config/timer.ts';
import { listenAddressProblem } from '../store/listen-address.ts';
import { DEFAULT_HPCP, type HpcpOptions } from './types.ts';

/**
 * A merge runs under AbortSignal.timeout(mergeTimeoutMs): below a second no announced head,
 * however small, could be fetched and merged, and the node would never converge.
 */
const MIN_MERGE_TIMEOUT_MS = 1_000;

const listenAddress = z.string().superRefine((addr, ctx) => {
  const problem = listenAddressProblem(addr);
  if (problem) ctx.addIssue({ code: 'custom', message: `${addr}: ${problem}` });
});

/** Config key `lattice`: how GOHOs are replicated (HPCP) and how blocks reach this node. */
export const latticeConfigSchema = z.strictObject({
  /**
   * libp2p TCP addresses to take bitswap connections on (e.g. `/ip4/0.0.0.0/tcp/4011`).
   * Empty (the default): no direct path, blocks come through the room only.
   */
  listen: z.array(listenAddress).default([]),
  /** Local changes within this window go out as one announcement, ms. */
  announceDelayMs: timerMs.default(DEFAULT_HPCP.announceDelayMs),
  /** One rank step before announcing a merged head nobody announced yet, ms. */
  mergeDelayMs: timerMs.default(DEFAULT_HPCP.mergeDelayMs),
  /** One rank step before answering a node that asks for heads, ms. */
  answerDelayMs: timerMs.default(DEFAULT_HPCP.answerDelayMs),
  /** Fewest ms between two answers to head requests. */
  answerIntervalMs: timerMs.default(DEFAULT_HPCP.answerIntervalMs),
  /** Longest one merge of an announced head may take, fetching included, ms. */
  mergeTimeoutMs: timerMs
    .min(MIN_MERGE_TIMEOUT_MS, `at least ${MIN_MERGE_TIMEOUT_MS} ms: a merge fetches blocks first`)
    .default(DEFAULT_HPCP.mergeTimeoutMs),
  /** Most blocks one merge may read (a DAG-bomb guard). */
  maxMergeBlocks: z.number().int().positive().default(DEFAULT_HPCP.budget.maxBlocks),
  /** Most bytes one merge may read. */
  maxMergeBytes: z.number().int().positive().default(DEFAULT_HPCP.budget.maxBytes),
});
export type LatticeConfig = z.infer<typeof latticeConfigSchema>;
export const LATTICE_DEFAULTS: LatticeConfig = latticeConfigSchema.parse({});

/** Config key `archive`: whether this node is an Archivist. */
export const archiveConfigSchema = z.strictObject({
  /** Pin the newest head of every GOHO of this node's rooms. */
  enabled: z.boolean().default(DEFAULT_ARCHIVIST.enabled),
  /** Pins are reported to the room at most once per this many ms. */
  reportDelayMs: timerMs.default(DEFAULT_ARCHIVIST.reportDelayMs),
  /** Warn when a head unchanged this long is held by fewer than two owners' nodes, ms. */
  warnAfterMs: timerMs.positive().default(DEFAULT_ARCHIVIST.warnAfterMs),
  /**
   * Minutes between two collections of old GOHO versions by the running node; 0: never (then
   * `meshbot gc` on the stopped node collects). At most a week: timers cannot wait much longer.
   */
  gcIntervalMinutes: z
    .number()
    .int()
    .min(0)
    .max(MAX_GC_INTERVAL_MINUTES)
    .default(DEFAULT_GC_INTERVAL_MINUTES),
});
export type ArchiveConfig = z.infer<typeof archiveConfigSchema>;
export const ARCHIVE_DEFAULTS: ArchiveConfig = archiveConfigSchema.parse({});

/** The HPCP options a node runs with, from its config. */
export function hpcpOptions(c: LatticeConfig): HpcpOptions {
  return {
    ...DEFAULT_HPCP,
    announceDelayMs: c.announceDelayMs,
    mergeDelayMs: c.mergeDelayMs,
    answerDelayMs: c.answerDelayMs,
    answerIntervalMs: c.answerIntervalMs,
    mergeTimeoutMs: c.mergeTimeoutMs,
    budget: { maxBlocks: c.maxMergeBlocks, maxBytes: c.maxMergeBytes },
  };
}
