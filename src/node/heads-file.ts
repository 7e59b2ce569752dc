import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { MeshError, type MeshErrorOptions } from '../errors/mesh-error.ts';

/**
 * A file of the data dir that is not what this node writes (a disk error, a hand edit). The
 * node does not start on it: taken as empty, the heads file would drop every GOHO change a
 * node alone in its room holds, and the pins file would let a garbage collection delete them.
 */
export class DataFileCorruptError extends MeshError {
  constructor(message: string, opts: MeshErrorOptions = {}) {
    super('DATA_FILE_CORRUPT', message, opts);
  }
}

/** origin CID -> head CID, persisted atomically so a restart resumes from the last heads. */
export class HeadsFile {
  readonly #file: string;
  #heads: Record<string, string> = {};
  #writing: Promise<void> = Promise.resolve();

  constructor(file: string) {
    this.#file = file;
  }

  /** Reads the file; none yet is no heads. Throws DataFileCorruptError when it is not ours. */
  async load(): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const corrupt = (why: string, cause?: unknown) =>
      new DataFileCorruptError(
        `${this.#file} is not a heads file (${why}): this node will not start on it. ` +
          'Restore it from a backup, or move it away to start from what the room holds ' +
          '(changes only this node held are then lost)',
        { cause },
      );
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw corrupt('not JSON', err);
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw corrupt('not a JSON object');
    }
    const bad = Object.entries(parsed).find(([, head]) => typeof head !== 'string');
    if (bad) throw corrupt(`the head of ${bad[0]} is not a string`);
    this.#heads = parsed as Record<string, string>;
  }

  /** Every origin and its head. */
  entries(): [string, string][] {
    return Object.entries(this.#heads);
  }

  get(origin: string): string | undefined {
    return this.#heads[origin];
  }

  /**
   * Records a head and writes the file. Writes run one at a time, each with every head set so
   * far; one that fails (a full disk) rejects its caller only: the next write is tried anew
   * and carries this head too.
   */
  set(origin: string, head: string): Promise<void> {
    this.#heads[origin] = head;
    const snapshot = JSON.stringify(this.#heads);
    const write = this.#writing.then(() => this.#write(snapshot));
    this.#writing = write.catch(() => {});
    return write;
  }

  /** Synced before the rename: a crash right after leaves the old file or the new, whole. */
  async #write(snapshot: string): Promise<void> {
    await mkdir(dirname(this.#file), { recursive: true });
    const tmp = `${this.#file}.tmp`;
    const out = await open(tmp, 'w');
    try {
      await out.writeFile(snapshot);
      await out.sync();
    } finally {
      await out.close();
    }
    await rename(tmp, this.#file);
  }
}
