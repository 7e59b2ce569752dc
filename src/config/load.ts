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
  /**
   * A JSON config file. Relative paths inside it (and the default data dir) resolve against
   * its folder; those from the environment and `overrides` against the working directory.
   */
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
    merged = layer(merged, await readJson(opts.file), base);
  }
  merged = layer(merged, fromEnv(opts.env ?? process.env), process.cwd());
  merged = layer(merged, (opts.overrides ?? {}) as Record<string, unknown>, process.cwd());
  return resolvePaths(await parseConfig(merged), base);
}

/**
 * One layer of config over those below it, merged key by key; except the access token: a
 * layer that gives it in either form (the token, or its file) replaces both forms below, so
 * that a token file named in the environment wins over a token in the config file. The
 * layer's relative paths are resolved against its `base` first (see withPaths).
 */
function layer(
  below: Record<string, unknown>,
  given: Record<string, unknown>,
  base: string,
): Record<string, unknown> {
  const over = withPaths(given, base);
  const hs = over.homeserver;
  if (!isPlainObject(hs) || (hs.accessToken === undefined && hs.accessTokenFile === undefined)) {
    return deepMerge(below, over);
  }
  let under = below;
  if (isPlainObject(below.homeserver)) {
    const { accessToken: _t, accessTokenFile: _f, ...rest } = below.homeserver;
    under = { ...below, homeserver: rest };
  }
  return deepMerge(under, over);
}

/**
 * A layer with its relative paths made absolute against `base`: the config file's folder for
 * the file, the working directory for the environment and flags (a MESHBOT_DATA_DIR of `data`
 * is where the shell that set it is). Empty or non-string values are left for the schema to
 * refuse.
 */
function withPaths(over: Record<string, unknown>, base: string): Record<string, unknown> {
  const abs = (p: unknown) => (typeof p === 'string' && p !== '' ? resolve(base, p) : p);
  const out = { ...over };
  if ('dataDir' in over) out.dataDir = abs(over.dataDir);
  const { homeserver: hs, engines } = over;
  if (isPlainObject(hs) && 'accessTokenFile' in hs) {
    out.homeserver = { ...hs, accessTokenFile: abs(hs.accessTokenFile) };
  }
  if (isPlainObject(engines) && 'dir' in engines)
    out.engines = { ...engines, dir: abs(engines.dir) };
  return out;
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
    if (token === '') {
      throw new ConfigError(
        `homeserver.accessTokenFile: ${cfg.homeserver.accessTokenFile} holds no token`,
      );
    }
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
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    // Where, never V8's message: it quotes the text around the error, which may be a token.
    throw new ConfigError(`config file ${file} is not valid JSON (${jsonErrorPlace(e)})`);
  }
  if (!isPlainObject(value)) throw new ConfigError(`config file ${file} must hold a JSON object`);
  return value;
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

/** The default paths made absolute: every path a layer gave already is (see withPaths). */
function resolvePaths(cfg: Config, base: string): Config {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  return {
    ...cfg,
    dataDir: abs(cfg.dataDir),
    engines: { ...cfg.engines, dir: abs(cfg.engines.dir) },
  };
}
