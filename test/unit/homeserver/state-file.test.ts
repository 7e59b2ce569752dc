/**
 * The embedded homeserver's state file holds its secrets: a broken one is named, and what it
 * says is never quoted back (a JSON parser's message quotes the text around its fault).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readState, STATE_FILE } from '../../../src/homeserver/data-dir.ts';

const SECRET = 'kR3tW9vXq2LmZp8YbN4c';

describe("the homeserver's state file", () => {
  it.each([
    [
      'not JSON (a value left unquoted)',
      `{"serverName": "localhost", "registrationSecret": ${SECRET}}`,
    ],
    ['JSON of the wrong shape', `{"serverName": 5, "registrationSecret": "${SECRET}"}`],
  ])('that is %s is refused by name, without its secrets', async (_what, text) => {
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-hs-state-'));
    try {
      await writeFile(join(dir, STATE_FILE), text);
      const error = await readState(dir).then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      expect(error?.message).toContain(join(dir, STATE_FILE));
      expect(error?.message).not.toContain(SECRET.slice(0, 6));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
