/**
 * The dev mesh's accounts file keeps passwords: a broken one is named, and what it says is
 * never quoted back (a JSON parser's message quotes the text around its fault).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DevAccounts } from '../../../src/dev/accounts.ts';

const PASSWORD = 'Zq8wVt3rXk5mLp2n';

describe("the dev mesh's accounts file", () => {
  it('that is broken is refused by name, without the passwords in it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-dev-accounts-'));
    const file = join(dir, 'accounts.json');
    try {
      await writeFile(file, `{"person": ${PASSWORD}}`);
      const error = await new DevAccounts(file).load().then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      expect(error?.message).toContain(file);
      expect(error?.message).not.toContain(PASSWORD.slice(0, 6));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is read back as written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-dev-accounts-'));
    const file = join(dir, 'accounts.json');
    try {
      await writeFile(file, JSON.stringify({ person: PASSWORD }));
      const accounts = new DevAccounts(file);
      await accounts.load();
      expect(accounts.password('person')).toBe(PASSWORD);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
