import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../errors/index.ts';
import { describeIssues } from '../errors/zod.ts';
import { type Config, type ConfigInput, configSchema } from './schema.ts';

/** Environment variables that override config keys (secrets are usually given here). */
const ENV_KEYS: Record<string, string[]> = {
  MESHBOT_HOMESERVER_URL: ['homeserver', 'url'],
  MESHBOT_ACCESS_TOKEN: ['homeserver', 'accessToken'],
  MESHBOT_ACCESS_TOKEN_FILE: ['homeserver', 'accessTokenFile'],
  MESHBOT_OWNER: ['owner'],
  MESHBOT_DATA_DIR: ['dataDir'],
};

export interface LoadOptions {
  /** A JSON config file. Relative paths inside it resolve against its folder. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Highest precedence, e.g. CLI flags. */
  overrides?: ConfigInput | Record<string, unknown>;
}

/** Defaults < config file < environment < overrides; unknown keys are errors naming their path. */
export async function loadConfig(opts: LoadOptions = {}): Promise<Config> {
  let merged: Record<string, unknown> = {};
  let base = process.cwd();
  if (opts.file) {
    base = dirname(resolve(opts.file));
    merged = deepMerge(merged, await readJson(opts.file));
  }
  merged = deepMerge(merged, fromEnv(opts.env ?? process.env));
  merged = deepMerge(merged, (opts.overrides ?? {}) as Record<string, unknown>);
  const hs = merged.homeserver;
  if (isPlainObject(hs) && typeof hs.accessTokenFile === 'string') {
    hs.accessTokenFile = resolve(base, hs.accessTokenFile);
  }
  return resolvePaths(await parseConfig(merged), base);
}

export async function parseConfig(value: unknown): Promise<Config> {
  const parsed = configSchema.safeParse(value);
  if (!parsed.success) throw new ConfigError(`invalid config: ${describeIssues(parsed.error)}`);
  const cfg = parsed.data;
  if (!cfg.homeserver.accessToken && !cfg.homeserver.accessTokenFile) {
    throw new ConfigError(
      'invalid config: homeserver.accessToken or homeserver.accessTokenFile is required',
    );
  }
  if (!cfg.homeserver.accessToken && cfg.homeserver.accessTokenFile) {
    const token = (
      await readFile(cfg.homeserver.accessTokenFile, 'utf8').catch((e: unknown) => {
        throw new ConfigError(
          `homeserver.accessTokenFile: cannot read ${cfg.homeserver.accessTokenFile}`,
          { cause: e },
        );
      })
    ).trim();
    cfg.homeserver.accessToken = token;
  }
  return cfg;
}

async function readJson(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${file}`, { cause: e });
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    // Where, never V8's message: it quotes the text around the error, which may be a token.
    throw new ConfigError(`config file ${file} is not valid JSON (${jsonErrorPlace(e)})`);
  }
}

/** Where JSON.parse failed, as "line N column M" when V8 says; its text around the place is
 * left out, as it may be a secret written without quotes. */
function jsonErrorPlace(err: unknown): string {
  const place = /\(line (\d+) column (\d+)\)/.exec(err instanceof Error ? err.message : '');
  return place
    ? `line ${place[1]} column ${place[2]}`
    : 'a value without quotes, or a stray character';
}

function fromEnv(env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, path] of Object.entries(ENV_KEYS)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    let node = out;
    for (const key of path.slice(0, -1)) {
      node[key] ??= {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1] as string] = value;
  }
  return out;
}

function deepMerge(
  a: Record<string, unknown>,
  b: Record<string, unknown>,
): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = isPlainObject(prev) && isPlainObject(v) ? deepMerge(prev, v) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function resolvePaths(cfg: Config, base: string): Config {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  return {
    ...cfg,
    dataDir: abs(cfg.dataDir),
    engines: { ...cfg.engines, dir: abs(cfg.engines.dir) },
  };
}
