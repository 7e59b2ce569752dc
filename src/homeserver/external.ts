import { createHmac } from 'node:crypto';
import { HomeserverError } from './errors.ts';
import { waitForClientApi, withTimeout } from './process.ts';
import { registerUser } from './register.ts';
import type { Homeserver, RegisteredUser, RegisterUserOptions } from './types.ts';

export interface ExternalHomeserverOptions {
  /** `MESHBOT_HS_URL`: client API base URL. */
  url: string;
  /** `MESHBOT_HS_SECRET`: its `registration_shared_secret`. */
  secret: string;
  /** `MESHBOT_HS_SERVER_NAME`; else learnt at start (key API, else a probe user's id). */
  serverName?: string;
  /** Bound on waiting for it to answer at start. Default 30 000 ms. */
  startTimeoutMs?: number;
}

/** A homeserver someone else runs (CI service, a dev's own Synapse): nothing to start or stop. */
export class ExternalHomeserver implements Homeserver {
  readonly url: string;
  readonly registrationSecret: string;
  readonly #startTimeoutMs: number;
  #serverName: string;
  #serverNameKnown: boolean;

  constructor(opts: ExternalHomeserverOptions) {
    let parsed: URL;
    try {
      parsed = new URL(opts.url);
    } catch (err) {
      throw new HomeserverError('HS_CONFIG', `MESHBOT_HS_URL is not a URL: ${opts.url}`, {
        cause: err,
      });
    }
    this.url = opts.url.replace(/\/+$/, '');
    this.registrationSecret = opts.secret;
    this.#startTimeoutMs = opts.startTimeoutMs ?? 30_000;
    this.#serverName = opts.serverName ?? parsed.hostname;
    this.#serverNameKnown = opts.serverName !== undefined;
  }

  get serverName(): string {
    return this.#serverName;
  }

  async start(signal?: AbortSignal): Promise<void> {
    await waitForClientApi(this.url, { timeoutMs: this.#startTimeoutMs, signal });
    if (!this.#serverNameKnown) await this.#fetchServerName(signal);
    if (!this.#serverNameKnown) await this.#probeServerName(signal);
  }

  async stop(): Promise<void> {}

  async registerUser(
    localpart: string,
    password: string,
    opts?: RegisterUserOptions,
  ): Promise<RegisteredUser> {
    const user = await registerUser(
      { url: this.url, secret: this.registrationSecret },
      localpart,
      password,
      opts,
    );
    // A user id is the one authoritative source of the server name.
    this.#serverName = user.userId.slice(user.userId.indexOf(':') + 1);
    this.#serverNameKnown = true;
    return user;
  }

  /** The key API names the server; it is only served where federation keys are exposed. */
  async #fetchServerName(signal?: AbortSignal): Promise<void> {
    try {
      const res = await fetch(`${this.url}/_matrix/key/v2/server`, {
        signal: withTimeout(signal, 5_000),
      });
      const body = (await res.json()) as { server_name?: unknown };
      if (res.ok && typeof body.server_name === 'string') {
        this.#serverName = body.server_name;
        this.#serverNameKnown = true;
      }
    } catch {
      signal?.throwIfAborted();
    }
  }

  /**
   * Else a user id tells it: register (or, on later runs, log in) a probe account whose
   * password derives from the secret, so every run can get in again.
   */
  async #probeServerName(signal?: AbortSignal): Promise<void> {
    const password = createHmac('sha256', this.registrationSecret).update(PROBE_USER).digest('hex');
    await this.registerUser(PROBE_USER, password, { signal });
  }
}

const PROBE_USER = 'meshbot-probe';
