import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { type InstanceState, prepareDataDir } from './data-dir.ts';
import { HomeserverError } from './errors.ts';
import { readPidFile, removePidFile, writePidFile } from './pid-file.ts';
import {
  commandLine,
  isAlive,
  killGroup,
  tailFile,
  terminateGroup,
  waitForClientApi,
} from './process.ts';
import { registerUser } from './register.ts';
import { CONFIG_FILE, SYNAPSE_LOG_FILE } from './synapse-config.ts';
import type {
  ManagedHomeserver,
  RateLimitMode,
  RegisteredUser,
  RegisterUserOptions,
} from './types.ts';

/** Written by provision.sh once the chroot is complete. */
export const PROVISIONED_MARKER = '.meshbot-complete';
/** Where data dirs live inside the chroot, so Synapse sees them with no bind mount. */
export const CHROOT_DATA_ROOT = 'var/lib/meshbot-hs';
const OUT_LOG = 'synapse.out.log';

export interface ChrootSynapseOptions {
  /** The provisioned chroot (`<cache>/synapse/root`). */
  root: string;
  name: string;
  /** Must lie inside `root`. Default `<root>/var/lib/meshbot-hs/<name>`. */
  dataDir?: string;
  serverName: string;
  rateLimits: RateLimitMode;
  port?: number;
  startTimeoutMs: number;
  stopTimeoutMs: number;
}

/** Synapse from the Debian chroot built by scripts/synapse/provision.sh, run as a child process group. */
export class ChrootSynapse implements ManagedHomeserver {
  readonly kind = 'chroot';
  readonly dataDir: string;
  readonly logFile: string;
  readonly #opts: ChrootSynapseOptions;
  readonly #innerDir: string;
  #state: InstanceState | undefined;
  #child: ChildProcess | undefined;
  #starting: Promise<void> | undefined;
  readonly #killOnExit = (): void => {
    if (this.#child?.pid !== undefined) killGroup(this.#child.pid, 'SIGKILL');
  };

  constructor(opts: ChrootSynapseOptions) {
    this.#opts = opts;
    const root = resolve(opts.root);
    this.dataDir = resolve(opts.dataDir ?? join(root, CHROOT_DATA_ROOT, opts.name));
    const inner = relative(root, this.dataDir);
    if (inner === '' || inner.startsWith('..') || isAbsolute(inner)) {
      throw new HomeserverError(
        'HS_CONFIG',
        `The chroot homeserver's dataDir must lie inside ${root} (got ${this.dataDir})`,
      );
    }
    this.#innerDir = `/${inner.split('\\').join('/')}`;
    this.logFile = join(this.dataDir, SYNAPSE_LOG_FILE);
  }

  get url(): string {
    if (this.#state === undefined)
      throw new HomeserverError('HS_NOT_STARTED', 'The homeserver has not been started');
    return `http://127.0.0.1:${this.#state.hostPort}`;
  }

  get serverName(): string {
    return this.#opts.serverName;
  }

  get registrationSecret(): string {
    if (this.#state === undefined)
      throw new HomeserverError('HS_NOT_STARTED', 'The homeserver has not been started');
    return this.#state.registrationSecret;
  }

  start(signal?: AbortSignal): Promise<void> {
    if (this.#starting !== undefined) return this.#starting;
    if (this.#child !== undefined) return Promise.resolve();
    this.#starting = this.#startRetryingPort(signal).finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  /** A port picked free can be taken before Synapse binds it: then try once more with another. */
  async #startRetryingPort(signal?: AbortSignal): Promise<void> {
    try {
      await this.#start(signal);
    } catch (err) {
      const portLost =
        err instanceof HomeserverError && /Address already in use/.test(err.details ?? '');
      if (!portLost || this.#opts.port !== undefined) throw err;
      await this.#start(signal);
    }
  }

  async #start(signal?: AbortSignal): Promise<void> {
    const root = this.#opts.root;
    if (!existsSync(join(root, PROVISIONED_MARKER))) {
      throw new HomeserverError(
        'HS_NOT_PROVISIONED',
        `No provisioned Synapse chroot at ${root}: run scripts/synapse/provision.sh`,
      );
    }
    await this.#reapStale();
    this.#state = await prepareDataDir({
      hostDir: this.dataDir,
      innerDir: this.#innerDir,
      serverName: this.#opts.serverName,
      rateLimits: this.#opts.rateLimits,
      port: this.#opts.port,
      bindAddress: '127.0.0.1',
    });
    signal?.throwIfAborted();
    const child = this.#spawn();
    const exited = new Promise<string>((done) => {
      child.once('exit', (code, sig) => done(`exit code ${code}, signal ${sig}`));
      child.once('error', (err) => done(`spawn failed: ${err.message}`));
    });
    void exited.then(() => {
      if (this.#child !== child) return;
      this.#child = undefined;
      process.removeListener('exit', this.#killOnExit);
    });
    try {
      await waitForClientApi(this.url, {
        timeoutMs: this.#opts.startTimeoutMs,
        signal,
        exited,
        diagnose: () => this.#diagnose(),
      });
    } catch (err) {
      await this.#terminate();
      throw err;
    }
  }

  #spawn(): ChildProcess {
    const out = openSync(join(this.dataDir, OUT_LOG), 'a');
    const config = `${this.#innerDir}/${CONFIG_FILE}`;
    // eatmydata: sqlite's fsyncs are most of Synapse's write latency, and this data is disposable.
    const args = [
      this.#opts.root,
      'eatmydata',
      'python3',
      '-m',
      'synapse.app.homeserver',
      '-c',
      config,
    ];
    const child = spawn('chroot', args, {
      detached: true, // own process group: stop() signals Synapse and anything it forks
      stdio: ['ignore', out, out],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C.UTF-8', HOME: '/root' },
    });
    closeSync(out);
    child.unref();
    this.#child = child;
    process.once('exit', this.#killOnExit);
    if (child.pid !== undefined) {
      const record = { pid: child.pid, ownerPid: process.pid, config };
      void writePidFile(this.dataDir, record).catch(() => undefined);
    }
    return child;
  }

  /** Kills a Synapse left running on this data dir by a process that died without stop(). */
  async #reapStale(): Promise<void> {
    const record = await readPidFile(this.dataDir);
    if (record === undefined || !isAlive(record.pid)) return;
    if ((await commandLine(record.pid))?.includes(record.config))
      await terminateGroup(record.pid, this.#opts.stopTimeoutMs);
  }

  async #diagnose(): Promise<string> {
    const log = await tailFile(this.logFile, 30);
    const out = await tailFile(join(this.dataDir, OUT_LOG), 15);
    return `--- ${this.logFile} (tail) ---\n${log}\n--- ${OUT_LOG} (tail) ---\n${out}`;
  }

  async stop(): Promise<void> {
    await this.#starting?.catch(() => undefined);
    await this.#terminate();
  }

  async #terminate(): Promise<void> {
    const child = this.#child;
    if (child?.pid === undefined) return;
    await terminateGroup(child.pid, this.#opts.stopTimeoutMs);
    this.#child = undefined;
    process.removeListener('exit', this.#killOnExit);
    await removePidFile(this.dataDir);
  }

  async restart(signal?: AbortSignal): Promise<void> {
    await this.stop();
    await this.start(signal);
  }

  registerUser(
    localpart: string,
    password: string,
    opts?: RegisterUserOptions,
  ): Promise<RegisteredUser> {
    return registerUser(
      { url: this.url, secret: this.registrationSecret },
      localpart,
      password,
      opts,
    );
  }
}
