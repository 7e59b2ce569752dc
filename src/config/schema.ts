import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DOCKER_DEFAULTS, dockerConfigSchema } from '../engines/config.ts';

/** The engines that ship with meshbot. */
export const BUILTIN_ENGINES_DIR = fileURLToPath(new URL('../../engines', import.meta.url));

const userId = z.string().regex(/^@[^:\s]+:\S+$/, 'a Matrix user id like @alice:example.org');

/** Who may do what in a mesh room. The default admits the owner and room moderators. */
export const admissionSchema = z.strictObject({
  /** Users who may always submit work and invite the bot. */
  users: z.array(userId).default([]),
  /** Room members at or above this power level may submit work. */
  powerLevel: z.number().int().default(50),
});

export const configSchema = z.strictObject({
  homeserver: z.strictObject({
    url: z.url(),
    /** The bot's access token; or use accessTokenFile. */
    accessToken: z.string().min(1).optional(),
    /** A file whose content is the access token (kept out of the config). */
    accessTokenFile: z.string().min(1).optional(),
  }),
  /** The person who runs this node; always admitted. */
  owner: userId,
  /** Where the node keeps its block store, sync position and heads. */
  dataDir: z.string().min(1).default('.meshbot/node'),
  admission: admissionSchema.default({ users: [], powerLevel: 50 }),
  engines: z
    .strictObject({
      /** The folder with engine packages (`engines/<name>/manifest.json`). */
      dir: z.string().min(1).default(BUILTIN_ENGINES_DIR),
      /**
       * Engines this node runs: names (from `dir`), package CIDs (from `dir` or downloaded from
       * the mesh), or `name@cid` (offered at once, downloaded when first assigned). Empty means
       * every engine in `dir` and nothing from the mesh.
       */
      allow: z.array(z.string().min(1)).default([]),
      /** The Docker runtime: see src/engines/config.ts. */
      docker: dockerConfigSchema.default(DOCKER_DEFAULTS),
    })
    .default({ dir: BUILTIN_ENGINES_DIR, allow: [], docker: DOCKER_DEFAULTS }),
  limits: z
    .strictObject({
      /** Largest task input fetched, bytes. */
      maxInputBytes: z
        .number()
        .int()
        .positive()
        .default(64 * 1024 * 1024),
      /** How long a worker looks for an input block in the mesh, ms. */
      fetchTimeoutMs: z.number().int().positive().default(15_000),
      /** Longest result text put in a reply, characters. */
      maxReplyChars: z.number().int().positive().default(4_000),
    })
    .default({ maxInputBytes: 64 * 1024 * 1024, fetchTimeoutMs: 15_000, maxReplyChars: 4_000 }),
});

/** The validated configuration of one node. */
export type Config = z.infer<typeof configSchema>;
/** What a config file or flags may contain before defaults are applied. */
export type ConfigInput = z.input<typeof configSchema>;
