/**
 * A friend joins a mesh: `meshbot init … --start` logs the bot in, writes a validated config
 * and runs the node; the friend invites the bot into the mesh room, and it announces itself.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { MESH_ROOM_LEVELS } from '../../src/dev/dev-mesh.ts';
import { clientFor, registerUser, testHomeserver } from '../support/homeserver.ts';

const BIN = new URL('../../bin/meshbot.js', import.meta.url).pathname;
let child: ChildProcess | undefined;

afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

function output(proc: ChildProcess, pattern: RegExp, ms: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`timed out; output:\n${out}`)), ms);
    const on = (d: Buffer) => {
      out += d.toString();
      if (pattern.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    };
    proc.stdout?.on('data', on);
    proc.stderr?.on('data', on);
  });
}

describe('meshbot init', () => {
  it('takes a friend from nothing to a node in the mesh: init --start, then an invite', async () => {
    const hs = testHomeserver();
    const friend = await registerUser('friend');
    const bot = await registerUser('friendbot');
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-init-'));
    const pwFile = join(dir, 'pw');
    await writeFile(pwFile, bot.password);
    const args = [
      'init',
      '--homeserver',
      hs.url,
      '--user',
      bot.localpart,
      '--password-file',
      pwFile,
    ];
    args.push('--owner', friend.userId, '--config', join(dir, 'meshbot.json'), '--start');
    child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out = await output(child as ChildProcess, /node running as/, 60_000);
    expect(out).toContain(`logged in as ${bot.userId}`);
    const config = await loadConfig({ file: join(dir, 'meshbot.json') });
    expect(config.owner).toBe(friend.userId);
    expect(config.homeserver.accessToken).toMatch(/\S+/);
    const token = await stat(join(dir, 'bot-token.txt'));
    expect(token.mode & 0o077).toBe(0);
    expect(await readFile(join(dir, 'meshbot.json'), 'utf8')).not.toContain(
      config.homeserver.accessToken as string,
    );

    const client = clientFor(friend);
    const { room_id } = await client.createRoom({
      preset: 'private_chat' as never,
      power_level_content_override: { events: MESH_ROOM_LEVELS },
    });
    await client.invite(room_id, bot.userId);
    await expect
      .poll(() => client.getStateEvent(room_id, 'org.meshbot.node', bot.userId).catch(() => null), {
        timeout: 30_000,
      })
      .toMatchObject({ version: expect.any(String) });
  }, 120_000);

  it('without a terminal, names the flags that are missing', async () => {
    child = spawn(process.execPath, [BIN, 'init', '--homeserver', 'http://127.0.0.1:9'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = await output(child as ChildProcess, /needs/, 30_000);
    expect(out).toContain('--user, --password, --owner');
  });
});
