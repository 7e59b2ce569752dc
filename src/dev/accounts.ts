import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError } from '../errors/index.ts';
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
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const parsed = parsePasswords(text);
    if (!parsed) {
      // Not the parser's words: they quote the text around the fault, here a password.
      throw new ConfigError(
        `${this.#file} is not the dev mesh's accounts file (not a JSON object of passwords): ` +
          "remove the dev mesh's folder to start it anew",
      );
    }
    this.#passwords = parsed;
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

/** localpart -> password, or undefined when the text is not that. */
function parsePasswords(text: string): Record<string, string> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const entries = Object.entries(value);
  return entries.every(([, p]) => typeof p === 'string')
    ? (value as Record<string, string>)
    : undefined;
}
