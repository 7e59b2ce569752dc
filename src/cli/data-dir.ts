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

/** A node's data dir for commands that work on its files: `--data-dir`, else the config's. */
export async function dataDirOf(args: DataDirArgs): Promise<string> {
  if (args['data-dir']) return resolve(args['data-dir']);
  if (!args.config) return resolve('.meshbot/node');
  // Only the data dir is needed; a config without a token is still fine here.
  const config = await loadConfig({
    file: args.config,
    overrides: { homeserver: { accessToken: 'unused' } },
  });
  return config.dataDir;
}
