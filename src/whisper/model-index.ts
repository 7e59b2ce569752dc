/**
 * The models folder: `<dir>/<sha256>.bin` files and `<dir>/index.json` (name → sha256, cid),
 * written atomically (temporary file, then rename) and one write at a time.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Logger } from '../log/logger.ts';
import { sha256Schema } from './config.ts';

const entrySchema = z.object({
  sha256: sha256Schema,
  cid: z.string().min(1).max(512).optional(),
  bytes: z.number().int().nonnegative().optional(),
});
const indexSchema = z.object({ version: z.literal(1), models: z.record(z.string(), entrySchema) });
export type IndexEntry = z.infer<typeof entrySchema>;

export interface ModelIndex {
  /** A snapshot of name → entry. */
  entries(): Promise<Record<string, IndexEntry>>;
  set(name: string, entry: IndexEntry): Promise<void>;
  /** Where the file with this sha256 lives (whether or not it exists). */
  pathOf(sha256: string): string;
  /** A fresh temporary path in the folder, for a file on its way in. */
  stagingPath(sha256: string, kind: string): string;
}

export function openModelIndex(dir: string, log: Logger): ModelIndex {
  const file = join(dir, 'index.json');
  let loaded: Promise<Record<string, IndexEntry>> | undefined;
  let writes: Promise<unknown> = Promise.resolve();

  const load = async (): Promise<Record<string, IndexEntry>> => {
    await mkdir(dir, { recursive: true });
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw err;
    }
    const parsed = indexSchema.safeParse(safeJson(text));
    if (parsed.success) return parsed.data.models;
    // The files stay and are found by sha256; only names and CIDs are lost.
    log.warn('model index is invalid; starting a new one', { file });
    return {};
  };
  const models = () => {
    loaded ??= load();
    return loaded;
  };

  return {
    entries: async () => ({ ...(await models()) }),
    async set(name, entry) {
      const current = await models();
      current[name] = entry;
      const snapshot = JSON.stringify({ version: 1, models: current }, null, 2);
      const write = writes.then(async () => {
        const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
        await writeFile(tmp, snapshot);
        await rename(tmp, file);
      });
      writes = write.catch(() => {});
      await write;
    },
    pathOf: (sha256) => join(dir, `${sha256}.bin`),
    stagingPath: (sha256, kind) =>
      join(dir, `.${sha256}.${kind}.${randomBytes(4).toString('hex')}.part`),
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The sha256 (hex) and size of a file on disk, streamed. */
export async function hashFile(
  path: string,
  signal?: AbortSignal,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { signal, highWaterMark: 1 << 20 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).byteLength;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/**
 * Remembers which files were verified, by size and mtime, so a model of some GB is hashed once
 * per process rather than on every use.
 */
export function createVerifier(log: Logger) {
  const verified = new Map<string, string>();
  const key = (s: { size: number; mtimeMs: number }) => `${s.size}:${s.mtimeMs}`;
  return {
    /** Whether `path` holds the file with this sha256; a file that does not is deleted. */
    async check(path: string, sha256: string, signal?: AbortSignal): Promise<number | undefined> {
      const s = await stat(path).catch(() => undefined);
      if (!s?.isFile()) return undefined;
      if (verified.get(path) === key(s)) return s.size;
      const actual = await hashFile(path, signal);
      if (actual.sha256 !== sha256) {
        log.warn('model file on disk is corrupt; deleting it', { path, actual: actual.sha256 });
        await rm(path, { force: true });
        verified.delete(path);
        return undefined;
      }
      verified.set(path, key(s));
      return s.size;
    },
  };
}
