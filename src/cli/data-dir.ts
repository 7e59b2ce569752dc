import { resolve } from 'node:path';
import { loadConfig } from '../config/load.ts';

/** A node's data dir for commands that work on its files: `--data-dir`, else the config's. */
export async function dataDirOf(args: { config?: string; 'data-dir'?: string }): Promise<string> {
  if (args['data-dir']) return resolve(args['data-dir']);
  if (!args.config) return resolve('.meshbot/node');
  // Only the data dir is needed; a config without a token is still fine here.
  const config = await loadConfig({
    file: args.config,
    overrides: { homeserver: { accessToken: 'unused' } },
  });
  return config.dataDir;
}
