import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { HomeserverError } from './errors.ts';
import { freePort, isPortFree } from './process.ts';
import {
  CONFIG_FILE,
  generateSigningKey,
  LOG_CONFIG_FILE,
  randomToken,
  SIGNING_KEY_FILE,
  synapseConfig,
} from './synapse-config.ts';
import type { RateLimitMode } from './types.ts';

/** What a data dir remembers between starts, so restarts keep users, tokens and the URL. */
const InstanceState = z.strictObject({
  serverName: z.string().min(1),
  hostPort: z.number().int().min(1).max(65_535),
  registrationSecret: z.string().min(16),
  macaroonSecretKey: z.string().min(16),
  formSecret: z.string().min(16),
});
export type InstanceState = z.infer<typeof InstanceState>;

export const STATE_FILE = 'meshbot-hs.json';

export interface PrepareOptions {
  /** The data dir on this host. */
  hostDir: string;
  /** The same dir as Synapse sees it (chroot- or container-relative). */
  innerDir: string;
  serverName: string;
  rateLimits: RateLimitMode;
  /** Wanted host port; else the remembered one if still free, else a free one. */
  port?: number;
  bindAddress: string;
  /** Port Synapse listens on inside a container; default: the host port. */
  innerPort?: number;
}

/** Creates or refreshes a data dir: state, signing key, and config (rewritten every start). */
export async function prepareDataDir(opts: PrepareOptions): Promise<InstanceState> {
  await mkdir(opts.hostDir, { recursive: true });
  const previous = await readState(opts.hostDir);
  if (previous !== undefined && previous.serverName !== opts.serverName) {
    throw new HomeserverError(
      'HS_CONFIG',
      `The homeserver data in ${opts.hostDir} belongs to server "${previous.serverName}", not "${opts.serverName}"`,
    );
  }
  const state: InstanceState = {
    serverName: opts.serverName,
    hostPort: await pickPort(opts.port, previous?.hostPort),
    registrationSecret: previous?.registrationSecret ?? randomToken(),
    macaroonSecretKey: previous?.macaroonSecretKey ?? randomToken(),
    formSecret: previous?.formSecret ?? randomToken(),
  };
  const keyFile = join(opts.hostDir, SIGNING_KEY_FILE);
  if (!existsSync(keyFile)) await writeFile(keyFile, generateSigningKey(), { mode: 0o600 });
  const files = synapseConfig({
    ...state,
    dataDir: opts.innerDir,
    bindAddress: opts.bindAddress,
    port: opts.innerPort ?? state.hostPort,
    publicBaseUrl: `http://127.0.0.1:${state.hostPort}/`,
    rateLimits: opts.rateLimits,
  });
  await writeFile(join(opts.hostDir, CONFIG_FILE), files.homeserverYaml, { mode: 0o600 });
  await writeFile(join(opts.hostDir, LOG_CONFIG_FILE), files.logConfigYaml);
  await writeFile(join(opts.hostDir, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`, {
    mode: 0o600,
  });
  return state;
}

export async function readState(hostDir: string): Promise<InstanceState | undefined> {
  let text: string;
  try {
    text = await readFile(join(hostDir, STATE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    // Not the parser's words: they quote the text around the fault, here the shared secret.
    throw new HomeserverError('HS_CONFIG', `${join(hostDir, STATE_FILE)} is not valid JSON`);
  }
  const parsed = InstanceState.safeParse(json);
  if (!parsed.success) {
    throw new HomeserverError(
      'HS_CONFIG',
      `${join(hostDir, STATE_FILE)} is invalid: ${parsed.error.message}`,
    );
  }
  return parsed.data;
}

async function pickPort(wanted: number | undefined, previous: number | undefined): Promise<number> {
  if (wanted !== undefined) return wanted;
  if (previous !== undefined && (await isPortFree(previous))) return previous;
  return freePort();
}
