/**
 * The output folder is written by hostile code: it is measured without following links, and
 * the output file is read only when it is a regular file within the cap (a symlink to a host
 * file must never be read on the host's side, and a FIFO must not hang the reader).
 */
import { constants } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Most entries the output folder may hold. */
export const MAX_OUTPUT_ENTRIES = 1000;

/** What a folder may hold of the disk uncounted: its first block, as every folder has. */
const FOLDER_ALLOWANCE = 4096;

/**
 * Bytes the files under `dir` take: each regular file by its size or by the disk blocks it
 * holds, whichever is more (`fallocate --keep-size` takes blocks without growing the size);
 * each folder, `dir` too, by the blocks it holds past its first: on ext4 a folder keeps the
 * blocks of every entry it once held, and an engine within the entry cap at each check can
 * leave hundreds of folders that once held a thousand. Infinity past MAX_OUTPUT_ENTRIES entries, or when an entry cannot be read (an
 * engine can make a folder private to its own user when the bot is not root, or nest
 * folders past the host's longest path): what cannot be counted is over the cap.
 */
export async function folderSize(dir: string): Promise<number> {
  let total = 0;
  let entries = 0;
  const pending = [dir];
  for (let at = pending.pop(); at !== undefined; at = pending.pop()) {
    let names: string[];
    try {
      if (at === dir) total += folderBytes(await lstat(at));
      names = await readdir(at);
    } catch (err) {
      // Gone meanwhile (the engine removed it) is fine; unreadable is not.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      return Number.POSITIVE_INFINITY;
    }
    for (const name of names) {
      if (++entries > MAX_OUTPUT_ENTRIES) return Number.POSITIVE_INFINITY;
      const path = join(at, name);
      let st: Awaited<ReturnType<typeof lstat>>;
      try {
        st = await lstat(path);
      } catch (err) {
        // Gone meanwhile is fine; a path too long or a folder not searchable is not.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        return Number.POSITIVE_INFINITY;
      }
      if (st.isDirectory()) {
        total += folderBytes(st);
        pending.push(path);
      } else if (st.isFile()) total += Math.max(st.size, st.blocks * 512);
      // A link (or any other entry) holds one block at most, within the entry cap: left out,
      // so that a link where the output should be is reported as a link, not as too large.
    }
  }
  return total;
}

function folderBytes(st: { blocks: number }): number {
  return Math.max(0, st.blocks * 512 - FOLDER_ALLOWANCE);
}

export type OutputFile =
  | { kind: 'none' }
  | { kind: 'file'; bytes: Uint8Array }
  | { kind: 'bad'; reason: string };

/** Reads `<dir>/output` if the engine wrote one. */
export async function readOutputFile(dir: string, max: number): Promise<OutputFile> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // O_NONBLOCK: a FIFO opens at once (and is then refused) instead of waiting, in one of
    // libuv's threads, for a writer that never comes.
    const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;
    handle = await open(join(dir, 'output'), flags);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { kind: 'none' };
    return {
      kind: 'bad',
      reason: code === 'ELOOP' ? 'the output is a link' : `the output cannot be read (${code})`,
    };
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) return { kind: 'bad', reason: 'the output is not a regular file' };
    if (st.size > max) return { kind: 'bad', reason: `the output is larger than ${max} bytes` };
    const bytes = new Uint8Array(st.size);
    const { bytesRead } = await handle.read(bytes, 0, st.size, 0);
    return { kind: 'file', bytes: bytes.subarray(0, bytesRead) };
  } finally {
    await handle.close();
  }
}
