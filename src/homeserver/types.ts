/**
 * A Matrix homeserver that tests and `meshbot dev` run against. Implementations: a Synapse
 * from a provisioned Debian chroot, a Synapse in Docker, or an external server named by env.
 */

/** Which Synapse rate limits apply: `test` raises every `rc_*` limit out of the way;
 * `default` keeps Synapse's own (about 0.2 messages/s per account), for benchmarks. */
export type RateLimitMode = 'test' | 'default';

export interface RegisteredUser {
  /** Full Matrix id, e.g. `@alice:localhost`. */
  userId: string;
  accessToken: string;
  deviceId: string;
}

export interface RegisterUserOptions {
  /** Create the account as a server admin. Ignored when the user exists already. */
  admin?: boolean;
  signal?: AbortSignal;
}

export interface Homeserver {
  /** Client-server API base URL, e.g. `http://127.0.0.1:41234`. Known once started. */
  readonly url: string;
  /** The server name in user ids (`@user:<serverName>`). */
  readonly serverName: string;
  /** Shared secret of Synapse's admin registration API (lets test workers register users). */
  readonly registrationSecret: string;
  /** Idempotent: resolves once the client API answers. A failed start leaves nothing running. */
  start(signal?: AbortSignal): Promise<void>;
  /** Idempotent; keeps the data. */
  stop(): Promise<void>;
  /**
   * Creates the account through the shared-secret admin API. If it exists already, logs in
   * with `password` instead and returns a fresh access token (restarts reuse the same users).
   */
  registerUser(
    localpart: string,
    password: string,
    opts?: RegisterUserOptions,
  ): Promise<RegisteredUser>;
}

/** A homeserver whose process this code owns, so it can be restarted with its data kept. */
export interface ManagedHomeserver extends Homeserver {
  readonly kind: 'chroot' | 'docker';
  /** Host folder holding config, signing key, database, media and logs. */
  readonly dataDir: string;
  /** Host path of the file where Synapse's own log goes. */
  readonly logFile: string;
  restart(signal?: AbortSignal): Promise<void>;
}

export interface HomeserverOptions {
  /** Instance name: picks the default data dir and labels the process. Default `default`. */
  name?: string;
  /**
   * Where the data lives (kept across restarts). Default: chroot →
   * `<chroot>/var/lib/meshbot-hs/<name>` (must lie inside the chroot, as no mounts are used);
   * docker → `<cache>/synapse-docker/<name>`.
   */
  dataDir?: string;
  /** Default `test`. */
  rateLimits?: RateLimitMode;
  /** Default `localhost`. Fixed at the first start of a data dir. */
  serverName?: string;
  /** Loopback port; default: the one used before in this data dir, else a free one. */
  port?: number;
  /** Bound on waiting for the client API to answer. Default 90 000 ms. */
  startTimeoutMs?: number;
  /** Bound on a graceful stop before SIGKILL. Default 10 000 ms. */
  stopTimeoutMs?: number;
  /** Root of meshbot's cache. Default `$MESHBOT_CACHE` or `~/.cache/meshbot`. */
  cacheDir?: string;
  /** Environment to read `MESHBOT_HS_*` from. Default `process.env`. */
  env?: Record<string, string | undefined>;
}
