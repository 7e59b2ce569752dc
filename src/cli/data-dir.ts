import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { loadConfig } from '../config/load.ts';

/** The flags that name a node's data dir. */
export interface DataDirArgs {
  config?: string;
  'data-dir'?: string;
}

/** Adds `--config` and `--data-dir`, the flags `dataDirOf` reads. */
export function withDataDirOptions<T>(y: Argv<T>): Argv<T & DataDirArgs> {
  return y
    .option('config', { type: 'string', describe: "the node's config file (for its data dir)" })
    .option('data-dir', { type: 'string', describe: "the node's data dir (instead of --config)" });
}

/**
 * The data dir of a node named by no flag: MESHBOT_DATA_DIR, as the node itself takes it when
 * its config is in the environment alone, else the config's default; relative to the working
 * directory either way.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.MESHBOT_DATA_DIR || '.meshbot/node');
}

/**
 * A node's data dir for commands that work on its files: `--data-dir`, else the config's
 * (MESHBOT_DATA_DIR overriding it there too), else defaultDataDir.
 */
export async function dataDirOf(args: DataDirArgs): Promise<string> {
  if (args['data-dir']) return resolve(args['data-dir']);
  if (!args.config) return defaultDataDir();
  // Only the data dir is needed; a config without a token is still fine here.
  const config = await loadConfig({
    file: args.config,
    overrides: { homeserver: { accessToken: 'unused' } },
  });
  return config.dataDir;
}
