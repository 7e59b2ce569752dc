import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BookSnapshot } from './task-record.ts';

/**
 * A room's TaskBook on disk, so a restarted node remembers what happened before its saved
 * sync position. Written atomically; the sync position is saved only after it.
 */
export class BookFile {
  readonly #file: string;

  constructor(dir: string, roomId: string) {
    const name = createHash('sha256').update(roomId).digest('hex').slice(0, 24);
    this.#file = join(dir, `${name}.json`);
  }

  async load(): Promise<BookSnapshot | undefined> {
    return readBook(this.#file);
  }

  async save(snapshot: BookSnapshot): Promise<void> {
    await mkdir(join(this.#file, '..'), { recursive: true });
    const tmp = `${this.#file}.tmp`;
    await writeFile(tmp, JSON.stringify(snapshot));
    await rename(tmp, this.#file);
  }
}

/** Every book saved in `dir` (a node's `mesh` folder), whatever its room; none if no folder. */
export async function savedBooks(dir: string): Promise<BookSnapshot[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const books: BookSnapshot[] = [];
  for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
    const book = await readBook(join(dir, name));
    if (book) books.push(book);
  }
  return books;
}

/** A saved book; undefined when there is none, or it is not one (a node starts afresh then). */
async function readBook(file: string): Promise<BookSnapshot | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as BookSnapshot;
    if (!Array.isArray(parsed?.tasks) || !Array.isArray(parsed.requests)) return undefined;
    return {
      ...parsed,
      handled: Array.isArray(parsed.handled) ? parsed.handled : [],
      withdrawn: stringPairs(parsed.withdrawn),
      deletedRequests: stringPairs(parsed.deletedRequests),
    };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/** The [string, string] pairs of a list read back from disk; anything else is dropped. */
function stringPairs(list: unknown): [string, string][] {
  const pairs = Array.isArray(list) ? list : [];
  return pairs.filter(
    (p): p is [string, string] =>
      Array.isArray(p) && typeof p[0] === 'string' && typeof p[1] === 'string',
  );
}
