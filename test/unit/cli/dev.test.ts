/**
 * `meshbot dev --bots` is checked before anything starts: a mesh of no bots (0, or a word that
 * yargs reads as NaN) would start the homeserver and a room where no `!run` is ever answered.
 */
import { describe, expect, it } from 'vitest';
import yargs from 'yargs';
import { devCommand } from '../../../src/cli/dev.ts';

/** Parses `args` with dev's own options and checks; the handler that would start the mesh is left out. */
async function parseDev(args: string[]): Promise<string | undefined> {
  let failure: string | undefined;
  await yargs(['dev', ...args])
    .command({ ...devCommand, handler: () => {} })
    .strict()
    .fail((msg, err) => {
      failure = msg ?? err?.message;
    })
    .parseAsync();
  return failure;
}

describe('meshbot dev', () => {
  it('refuses a --bots that is not a whole number of at least 1', async () => {
    for (const bots of ['0', '-1', 'two', '1.5']) {
      expect(await parseDev(['--bots', bots])).toBe('--bots: a whole number, at least 1');
    }
    expect(await parseDev(['--bots', '3'])).toBeUndefined();
    expect(await parseDev([])).toBeUndefined();
  });
});
