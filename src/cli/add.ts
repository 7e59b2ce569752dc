import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { BadInputError } from '../errors/index.ts';
import { silentLogger } from '../log/logger.ts';
import { createStore } from '../store/index.ts';
import { type DataDirArgs, dataDirOf, withDataDirOptions } from './data-dir.ts';

interface Args extends DataDirArgs {
  file: string;
}

export const addCommand: CommandModule<object, Args> = {
  command: 'add <file>',
  describe: "add a file to this node's store and print its CID",
  builder: (y) =>
    withDataDirOptions(
      y.positional('file', { type: 'string', demandOption: true, describe: 'the file to add' }),
    ),
  handler: async (args) => {
    const dataDir = await dataDirOf(args);
    const cid = await addFile(dataDir, args.file);
    process.stdout.write(`${cid}\n`);
  },
};

/** Adds a file to the block store under a node's data dir; a running node sees it at once. */
export async function addFile(dataDir: string, file: string): Promise<string> {
  const bytes = await readFile(file).catch((err: unknown) => {
    throw new BadInputError(`cannot read ${file}: ${unreadable(err)}`, { cause: err });
  });
  const store = createStore({ dir: join(dataDir, 'store'), logger: silentLogger });
  await store.start();
  try {
    return (await store.addBytes(bytes)).toString();
  } finally {
    await store.stop();
  }
}

/** Why a file could not be read, in words: Node's EISDIR message names no file and no folder. */
const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EISDIR: 'it is a folder',
  EACCES: 'permission denied',
};
function unreadable(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  return (code && REASONS[code]) ?? (err as Error).message;
}
