import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import { loadConfig } from '../config/load.ts';
import { BUILTIN_ENGINES_DIR } from '../config/schema.ts';
import { packIntoDataDir } from '../engines/pack.ts';
import { defaultDataDir } from './data-dir.ts';

interface PackArgs {
  names: string[];
  config?: string;
  'data-dir'?: string;
  dir?: string;
}

/** `meshbot engines pack`. */
export const packCommand: CommandModule<object, PackArgs> = {
  command: 'pack [names..]',
  describe: "add engine packages to this node's store and print each CID (same files, same CID)",
  builder: (y) =>
    y
      .positional('names', {
        type: 'string',
        array: true,
        default: [],
        describe: 'engines (default: all)',
      })
      .option('config', {
        type: 'string',
        describe: "the node's config file (data dir, engines dir)",
      })
      .option('data-dir', { type: 'string', describe: "the node's data dir (instead of --config)" })
      .option('dir', {
        type: 'string',
        describe: 'the engines folder (default: the config’s, or the built-in one)',
      }),
  handler: async (args) => {
    const config = args.config
      ? await loadConfig({
          file: args.config,
          overrides: { homeserver: { accessToken: 'unused' } },
        })
      : undefined;
    const dataDir = args['data-dir']
      ? resolve(args['data-dir'])
      : (config?.dataDir ?? defaultDataDir());
    const dir = args.dir ? resolve(args.dir) : (config?.engines.dir ?? BUILTIN_ENGINES_DIR);
    const packed = await packIntoDataDir(dataDir, {
      dir,
      names: args.names,
      dockerSocket: config?.engines.docker.socket,
    });
    let failed = 0;
    for (const p of packed) {
      if (p.error) {
        failed++;
        process.stderr.write(`${p.name}: not packed: ${p.error}\n`);
      } else {
        process.stdout.write(`${p.name}\t${p.cid}\n`);
      }
    }
    if (failed > 0) process.exitCode = 1;
  },
};

export const enginesCommand: CommandModule = {
  command: 'engines',
  describe: 'engine packages: pack',
  builder: (y) => y.command(packCommand).demandCommand(1, 'Name a command: pack.'),
  handler: () => {},
};
