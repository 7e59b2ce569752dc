import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { type InstanceState, prepareDataDir } from './data-dir.ts';
import { HomeserverError } from './errors.ts';
import { tailFile, waitForClientApi } from './process.ts';
import { registerUser } from './register.ts';
import { SYNAPSE_LOG_FILE } from './synapse-config.ts';
import type {
  ManagedHomeserver,
  RateLimitMode,
  RegisteredUser,
  RegisterUserOptions,
} from './types.ts';

const run = promisify(execFile);
export const DEFAULT_SYNAPSE_IMAGE = 'matrixdotorg/synapse:latest';
/** Every container this module starts carries this label (value: the instance name), for reaping. */
export const CONTAINER_LABEL = 'meshbot.homeserver';
const CONTAINER_PORT = 8008;

export interface DockerSynapseOptions {
  name: string;
  /** Host folder mounted at /data. Default `<cacheDir>/synapse-docker/<name>`. */
  dataDir?: string;
  cacheDir: string;
  /** Default `$MESHBOT_SYNAPSE_IMAGE` or `matrixdotorg/synapse:latest`. */
  image?: string;
  serverName: string;
  rateLimits: RateLimitMode;
  port?: number;
  startTimeoutMs: number;
  stopTimeoutMs: number;
}

/**
 * Synapse from the official image, for machines where the chroot cannot run (not root, not
 * Debian/Ubuntu) but the docker CLI can. Needs the image or internet access to pull it.
 */
export class DockerSynapse implements ManagedHomeserver {
  readonly kind = 'docker';
  readonly dataDir: string;
  readonly logFile: string;
  readonly container: string;
  readonly #opts: DockerSynapseOptions;
  #state: InstanceState | undefined;
  #running = false;
  #waiter: ChildProcess | undefined;

  constructor(opts: DockerSynapseOptions) {
    this.#opts = opts;
    this.dataDir = resolve(opts.dataDir ?? join(opts.cacheDir, 'synapse-docker', opts.name));
    this.logFile = join(this.dataDir, SYNAPSE_LOG_FILE);
    this.container = `meshbot-hs-${opts.name.replace(/[^a-zA-Z0-9_.-]/g, '-')}`;
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

  async start(signal?: AbortSignal): Promise<void> {
    if (this.#running) return;
    this.#state = await prepareDataDir({
      hostDir: this.dataDir,
      innerDir: '/data',
      serverName: this.#opts.serverName,
      rateLimits: this.#opts.rateLimits,
      port: this.#opts.port,
      bindAddress: '0.0.0.0', // inside the container; published on the host's loopback only
      innerPort: CONTAINER_PORT,
    });
    await this.#removeContainer();
    await this.#docker(this.#runArgs(this.#state.hostPort), signal);
    this.#running = true;
    const waiter = spawn('docker', ['wait', this.container], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    this.#waiter = waiter;
    const exited = new Promise<string>((done) => {
      waiter.stdout?.on('data', (code: Buffer) =>
        done(`container exited with code ${code.toString().trim()}`),
      );
      waiter.once('error', (err) => done(`docker wait failed: ${err.message}`));
    });
    try {
      await waitForClientApi(this.url, {
        timeoutMs: this.#opts.startTimeoutMs,
        signal,
        exited,
        diagnose: () => this.#diagnose(),
      });
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  #runArgs(hostPort: number): string[] {
    const uid = process.getuid?.() ?? 991;
    const gid = process.getgid?.() ?? 991;
    return [
      'run',
      '--detach',
      '--name',
      this.container,
      '--label',
      `${CONTAINER_LABEL}=${this.#opts.name}`,
      // The image's start.py drops to UID:GID: the caller's own, so the data dir stays theirs.
      '--env',
      `UID=${uid}`,
      '--env',
      `GID=${gid}`,
      '--publish',
      `127.0.0.1:${hostPort}:${CONTAINER_PORT}`,
      '--volume',
      `${this.dataDir}:/data`,
      this.#opts.image ?? process.env.MESHBOT_SYNAPSE_IMAGE ?? DEFAULT_SYNAPSE_IMAGE,
    ];
  }

  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    const seconds = Math.ceil(this.#opts.stopTimeoutMs / 1000);
    await this.#docker(['stop', '--time', String(seconds), this.container]).catch(() => undefined);
    this.#waiter?.kill();
    this.#waiter = undefined;
    await this.#removeContainer();
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

  /** A container of the same name left by a run that died without stop(). */
  async #removeContainer(): Promise<void> {
    await this.#docker(['rm', '--force', '--volumes', this.container]).catch(() => undefined);
  }

  async #docker(args: string[], signal?: AbortSignal): Promise<string> {
    try {
      const { stdout } = await run('docker', args, { signal, maxBuffer: 4 * 1024 * 1024 });
      return stdout;
    } catch (err) {
      signal?.throwIfAborted();
      const stderr = (err as { stderr?: string }).stderr?.trim() ?? String(err);
      throw new HomeserverError('HS_START_FAILED', `docker ${args[0]} failed: ${stderr}`, {
        cause: err,
        retryable: true,
      });
    }
  }

  async #diagnose(): Promise<string> {
    const logs = await run('docker', ['logs', '--tail', '20', this.container]).then(
      (r) => `${r.stdout}${r.stderr}`,
      (err: unknown) => String(err),
    );
    return `--- docker logs (tail) ---\n${logs.trimEnd()}\n--- ${this.logFile} (tail) ---\n${await tailFile(this.logFile, 30)}`;
  }
}
