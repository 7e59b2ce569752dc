import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
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

  set(origin: string, head: string): Promise<void> {
    this.#heads[origin] = head;
    const snapshot = JSON.stringify(this.#heads);
    this.#writing = this.#writing.then(async () => {
      await mkdir(dirname(this.#file), { recursive: true });
      await writeFile(`${this.#file}.tmp`, snapshot);
      await rename(`${this.#file}.tmp`, this.#file);
    });
    return this.#writing;
  }
}
