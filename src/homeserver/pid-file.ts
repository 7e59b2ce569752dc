import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Who runs the Synapse of a data dir: lets a later run find and stop one left behind. */
export interface PidRecord {
  /** The Synapse process (and process group). */
  pid: number;
  /** The process that started it; when it is gone, the Synapse is an orphan. */
  ownerPid: number;
  /** Config path on Synapse's command line: tells our Synapse from a reused pid. */
  config: string;
}

const PID_FILE = 'meshbot-hs.pid';

export async function readPidFile(dataDir: string): Promise<PidRecord | undefined> {
  try {
    return JSON.parse(await readFile(join(dataDir, PID_FILE), 'utf8')) as PidRecord;
  } catch {
    return undefined;
  }
}

export async function writePidFile(dataDir: string, record: PidRecord): Promise<void> {
  await writeFile(join(dataDir, PID_FILE), `${JSON.stringify(record)}\n`);
}

export async function removePidFile(dataDir: string): Promise<void> {
  await rm(join(dataDir, PID_FILE), { force: true });
}
