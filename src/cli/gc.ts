import type { CommandModule } from 'yargs';
import type { GcResult } from '../archivist/gc.ts';
import { createLogger } from '../log/logger.ts';
import { collectDataDir } from '../node/offline-gc.ts';
import { type DataDirArgs, dataDirOf, withDataDirOptions } from './data-dir.ts';

/**
 * `meshbot gc`: deletes the old GOHO versions of a stopped node's store (a running node does
 * it itself every `archive.gcIntervalMinutes`) and prints what it freed.
 */
export const gcCommand: CommandModule<object, DataDirArgs> = {
  command: 'gc',
  describe: "delete old GOHO versions from a stopped node's store; prints what it freed",
  builder: (y) => withDataDirOptions(y),
  handler: async (args) => {
    const dataDir = await dataDirOf(args);
    const result = await collectDataDir(dataDir, { log: createLogger({ level: 'warn' }) });
    process.stdout.write(`${describeGc(result)}\n`);
  },
};

/** What a collection freed and kept, for a person. */
export function describeGc(r: GcResult): string {
  const blocks = (n: number) => `${n} block${n === 1 ? '' : 's'}`;
  return (
    `freed ${blocks(r.deleted)} of old GOHO versions (${kib(r.bytes)}); ` +
    `kept ${blocks(r.marked)} that heads, pins and tasks reach`
  );
}

const kib = (bytes: number) =>
  bytes < 1024 ? `${bytes} bytes` : `${(bytes / 1024).toFixed(1)} KiB`;
