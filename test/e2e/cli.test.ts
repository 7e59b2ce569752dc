/**
 * The README's main job, as a person runs it: `meshbot dev` prints how to log in and a
 * command to try; typing it shows the bots' answer; Ctrl-C stops everything.
 * And `meshbot add <file>` prints the CID a node can run on.
 */
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/logger.ts';
import { createStore } from '../../src/store/index.ts';
import { testHomeserver } from '../support/homeserver.ts';

const BIN = new URL('../../bin/meshbot.js', import.meta.url).pathname;
let child: ChildProcessWithoutNullStreams | undefined;

afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

/** Resolves with everything printed so far once `pattern` shows up in the output. */
function waitForOutput(
  proc: ChildProcessWithoutNullStreams,
  pattern: RegExp,
  timeoutMs: number,
): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`timed out waiting for ${pattern}; output:\n${out}`)),
      timeoutMs,
    );
    const onData = (d: Buffer) => {
      out += d.toString();
      if (pattern.test(out)) {
        clearTimeout(timer);
        proc.stdout.off('data', onData);
        resolve(out);
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
  });
}

describe('meshbot dev', () => {
  it('runs a local mesh a person can type commands into, and stops on Ctrl-C', async () => {
    const hs = testHomeserver();
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-dev-'));
    // With MESHBOT_HS_URL set, `meshbot dev` uses that homeserver instead of starting its own.
    const env = {
      ...process.env,
      MESHBOT_HS_URL: hs.url,
      MESHBOT_HS_SECRET: hs.secret,
      MESHBOT_HS_SERVER_NAME: hs.serverName,
    };
    child = spawn(process.execPath, [BIN, 'dev', '--dir', dir], { env });
    const welcome = await waitForOutput(child, /you> /, 90_000);
    expect(welcome).toContain(`homeserver ${hs.url}`);
    expect(welcome).toMatch(/user @demo:\S+\s+password \S+/);
    const tryLine = /!run wordcount (\S+)/.exec(welcome);
    expect(tryLine).not.toBeNull();
    child.stdin.write(`${tryLine?.[0]}\n`);
    const answer = await waitForOutput(child, /"words":\d+/, 60_000);
    expect(answer).toContain('{"lines":3,"words":14,"chars":64}');
    const exited = new Promise<number | null>((r) => child?.on('exit', (code) => r(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  }, 180_000);
});

describe('meshbot add', () => {
  it("prints the CID of a file added to a node's store, the same CID the store computes", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-add-'));
    const file = join(dir, 'hello.txt');
    await writeFile(file, 'hello mesh\n');
    const { stdout } = await promisify(execFile)(process.execPath, [
      BIN,
      'add',
      file,
      '--data-dir',
      join(dir, 'node'),
    ]);
    const cid = stdout.trim();
    const store = createStore({ dir: join(dir, 'node', 'store'), logger: silentLogger });
    await store.start();
    try {
      expect(
        new TextDecoder().decode(
          await store.cat((await import('multiformats/cid')).CID.parse(cid), { offline: true }),
        ),
      ).toBe('hello mesh\n');
    } finally {
      await store.stop();
    }
  });

  it('says clearly when the file does not exist', async () => {
    const run = promisify(execFile)(process.execPath, [
      BIN,
      'add',
      '/nonexistent/file.txt',
      '--data-dir',
      tmpdir(),
    ]);
    await expect(run).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('meshbot:'),
    });
  });
});
