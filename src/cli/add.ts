import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { silentLogger } from '../log/logger.ts';
import { createStore } from '../store/index.ts';
import { dataDirOf } from './data-dir.ts';

interface Args {
  file: string;
  config?: string;
  'data-dir'?: string;
}

export const addCommand: CommandModule<object, Args> = {
  command: 'add <file>',
  describe: "add a file to this node's store and print its CID",
  builder: (y) =>
    y
      .positional('file', { type: 'string', demandOption: true, describe: 'the file to add' })
      .option('config', { type: 'string', describe: "the node's config file (for its data dir)" })
      .option('data-dir', {
        type: 'string',
        describe: "the node's data dir (instead of --config)",
      }),
  handler: async (args) => {
    const dataDir = await dataDirOf(args);
    const cid = await addFile(dataDir, args.file);
    process.stdout.write(`${cid}\n`);
  },
};

/** Adds a file to the block store under a node's data dir; a running node sees it at once. */
export async function addFile(dataDir: string, file: string): Promise<string> {
  const bytes = await readFile(file);
  const store = createStore({ dir: join(dataDir, 'store'), logger: silentLogger });
  await store.start();
  try {
    return (await store.addBytes(bytes)).toString();
  } finally {
    await store.stop();
  }
}
