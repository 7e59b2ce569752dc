import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { allowlistEntryProblem } from '../engines/allowlist.ts';
import { DOCKER_DEFAULTS, dockerConfigSchema } from '../engines/config.ts';
import { evaluatorConfigSchema } from '../evaluator/config.ts';
import {
  ARCHIVE_DEFAULTS,
  archiveConfigSchema,
  LATTICE_DEFAULTS,
  latticeConfigSchema,
} from '../hpcp/config.ts';
import { MAX_ASSIGNMENT_LEASE_MS } from '../protocol/events.ts';
import { MAX_LEASE_MS } from '../protocol/manager.ts';
import { testingConfigSchema, verifierConfigSchema } from '../verifier/config.ts';
import { whisperConfigSchema } from '../whisper/config.ts';
import { timerMs } from './timer.ts';

/** The engines that ship with meshbot. */
export const BUILTIN_ENGINES_DIR = fileURLToPath(new URL('../../engines', import.meta.url));

const userId = z.string().regex(/^@[^:\s]+:\S+$/, 'a Matrix user id like @alice:example.org');

/**
 * Who may do what in a mesh room. The default suits a private, invite-only room of friends:
 * every member may submit work, and every member's announced bot is a node. A room that
 * raises `powerLevel` restricts nodes the same way; its bots then need that level or a
 * listing in `nodes`.
 */
export const admissionSchema = z.strictObject({
  /** Users who may always submit work and invite the bot. */
  users: z.array(userId).default([]),
  /** Room members at or above this power level may submit work (0: every member). */
  powerLevel: z.number().int().default(0),
  /**
   * Bots that count as nodes whatever their power level, once they announced themselves.
   * Any other announced member counts only if it may submit work and is at or above
   * `nodePowerLevel`: a node can hold the coordinator's lease and hand out tasks.
   */
  nodes: z.array(userId).default([]),
  /** Announced members that may submit work count as nodes at or above this power level. */
  nodePowerLevel: z.number().int().default(0),
});

/**
 * A lease the node announces in events whose schema bounds it: peers drop an event past it, so
 * a longer one would leave the room with no coordinator (or assignments nobody takes). Both
 * bounds are well under a Node timer's longest wait, halved or thirded for renewals too.
 */
const leaseMs = (max: number, what: string) =>
  z.number().int().min(1_000).max(max, `at most ${max} ms: the longest ${what} other nodes accept`);

/** Timings of the coordination protocol. Every node of a room should use the same ones. */
export const meshSchema = z.strictObject({
  /** How long a coordinator's lease lasts; renewed at half of it. A new one after expiry. */
  leaseMs: leaseMs(MAX_LEASE_MS, "coordinator's lease").default(30_000),
  /** How long an assignment lives unless its worker renews it (at half of it). */
  assignmentLeaseMs: leaseMs(MAX_ASSIGNMENT_LEASE_MS, 'assignment lease').default(30_000),
  /** How often an idle node re-announces itself (load, liveness). */
  heartbeatMs: timerMs.min(1_000).default(60_000),
  /** Attempts before a task that keeps failing (or whose workers vanish) fails for good. */
  maxAttempts: z.number().int().min(1).max(20).default(3),
  /** Assignments a worker holds beyond its capacity, so it never waits for the next one. */
  prefetch: z.number().int().min(0).max(100).default(1),
  /**
   * 👀 (then ✅ or ❌) only for a `!run` not answered within this time: a quick answer shows
   * its own state, and each reaction is one more event in the room. 0: reactions on every one.
   */
  ackDelayMs: timerMs.default(1_500),
  /** A progress notice (edited in place) for work still running after this long. */
  progressAfterMs: timerMs.default(5_000),
  /** Shortest time between two edits of a progress notice. */
  progressEveryMs: timerMs.min(500).default(5_000),
});
export type MeshTimings = z.infer<typeof meshSchema>;
const MESH_DEFAULTS = {
  leaseMs: 30_000,
  assignmentLeaseMs: 30_000,
  heartbeatMs: 60_000,
  maxAttempts: 3,
  prefetch: 1,
  ackDelayMs: 1_500,
  progressAfterMs: 5_000,
  progressEveryMs: 5_000,
};

export const configSchema = z.strictObject({
  homeserver: z.strictObject({
    /** The client-server API's base URL; the Matrix client speaks http(s) only. */
    url: z.url({ protocol: /^https?$/, error: 'an http or https URL' }),
    /** The bot's access token; or use accessTokenFile. */
    accessToken: z.string().min(1).optional(),
    /** A file whose content is the access token (kept out of the config). */
    accessTokenFile: z.string().min(1).optional(),
  }),
  /** The person who runs this node; always admitted. */
  owner: userId,
  /** Where the node keeps its block store, sync position and heads. */
  dataDir: z.string().min(1).default('.meshbot/node'),
  admission: admissionSchema.default({
    users: [],
    powerLevel: 0,
    nodes: [],
    nodePowerLevel: 0,
  }),
  mesh: meshSchema.default(MESH_DEFAULTS),
  engines: z
    .strictObject({
      /** The folder with engine packages (`engines/<name>/manifest.json`). */
      dir: z.string().min(1).default(BUILTIN_ENGINES_DIR),
      /**
       * Engines this node runs: names (from `dir`), package CIDs (from `dir` or downloaded from
       * the mesh), or `name@cid` (offered at once, downloaded when first assigned). Empty means
       * every engine in `dir` and nothing from the mesh.
       */
      allow: z
        .array(
          z.string().superRefine((entry, ctx) => {
            const problem = allowlistEntryProblem(entry);
            if (problem) ctx.addIssue({ code: 'custom', message: problem });
          }),
        )
        .default([]),
      /** The Docker runtime: see src/engines/config.ts. */
      docker: dockerConfigSchema.default(DOCKER_DEFAULTS),
    })
    .default({ dir: BUILTIN_ENGINES_DIR, allow: [], docker: DOCKER_DEFAULTS }),
  /** GOHO replication (HPCP) and the bitswap path: see src/hpcp/config.ts. */
  lattice: latticeConfigSchema.default(LATTICE_DEFAULTS),
  /** Whether this node archives (pins) heads: see src/hpcp/config.ts. */
  archive: archiveConfigSchema.default(ARCHIVE_DEFAULTS),
  /** Replication and trust (the Verifier): see src/verifier/config.ts. */
  verifier: verifierConfigSchema.prefault({}),
  /** Deliberately wrong results, for the Verifier's tests: see src/verifier/config.ts. */
  testing: testingConfigSchema.prefault({}),
  /** Pipelines (the Evaluator's conditions): see src/evaluator/config.ts. */
  evaluator: evaluatorConfigSchema.prefault({}),
  /** The whisper engine: threads, models, splitting of long audio: see src/whisper/config.ts. */
  whisper: whisperConfigSchema.prefault({}),
  limits: z
    .strictObject({
      /** Largest task input fetched, bytes. */
      maxInputBytes: z
        .number()
        .int()
        .positive()
        .default(64 * 1024 * 1024),
      /** How long a worker looks for an input block in the mesh, ms. */
      fetchTimeoutMs: timerMs.positive().default(15_000),
      /** Longest result text put in a reply, characters. */
      // A reply is also cut to what one event can carry (matrix/reply.ts fitReply).
      maxReplyChars: z.number().int().positive().max(20_000).default(4_000),
    })
    .default({ maxInputBytes: 64 * 1024 * 1024, fetchTimeoutMs: 15_000, maxReplyChars: 4_000 }),
});

/** The validated configuration of one node. */
export type Config = z.infer<typeof configSchema>;
/** What a config file or flags may contain before defaults are applied. */
export type ConfigInput = z.input<typeof configSchema>;
