import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** origin CID -> head CID, persisted atomically so a restart resumes from the last heads. */
export class HeadsFile {
  readonly #file: string;
  #heads: Record<string, string> = {};
  #writing: Promise<void> = Promise.resolve();

  constructor(file: string) {
    this.#file = file;
  }

  async load(): Promise<void> {
    try {
      const parsed: unknown = JSON.parse(await readFile(this.#file, 'utf8'));
      if (parsed && typeof parsed === 'object') this.#heads = parsed as Record<string, string>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
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
