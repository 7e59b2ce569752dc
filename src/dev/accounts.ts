import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Homeserver, RegisteredUser } from '../homeserver/index.ts';

/**
 * Accounts of a local dev mesh. Passwords are made once and kept (mode 0600) so a restart
 * logs into the same accounts; the person's password is what they type into a Matrix client.
 */
export class DevAccounts {
  readonly #file: string;
  #passwords: Record<string, string> = {};

  constructor(file: string) {
    this.#file = file;
  }

  async load(): Promise<void> {
    try {
      this.#passwords = JSON.parse(await readFile(this.#file, 'utf8')) as Record<string, string>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }

  password(localpart: string): string {
    return this.#passwords[localpart] ?? '';
  }

  async register(hs: Homeserver, localpart: string): Promise<RegisteredUser> {
    let password = this.#passwords[localpart];
    if (!password) {
      password = randomBytes(9).toString('base64url');
      this.#passwords[localpart] = password;
      await mkdir(dirname(this.#file), { recursive: true });
      await writeFile(this.#file, JSON.stringify(this.#passwords, null, 2), { mode: 0o600 });
    }
    return hs.registerUser(localpart, password);
  }
}
