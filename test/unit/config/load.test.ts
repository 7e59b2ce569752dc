import { mkdtemp, realpath, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';

async function configFile(content: unknown): Promise<{ dir: string; file: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'meshbot-config-'));
  const file = join(dir, 'node.json');
  await writeFile(file, JSON.stringify(content));
  return { dir, file };
}

const base = {
  homeserver: { url: 'http://127.0.0.1:8008', accessToken: 'syt_x' },
  owner: '@alice:example.org',
};

describe('the config loader', () => {
  it('applies defaults and resolves paths against the file', async () => {
    const { dir, file } = await configFile({ ...base, dataDir: 'data' });
    const cfg = await loadConfig({ file, env: {} });
    expect(cfg.dataDir).toBe(join(dir, 'data'));
    expect(cfg.admission).toEqual({ users: [], powerLevel: 0, nodes: [], nodePowerLevel: 0 });
    expect(cfg.mesh).toMatchObject({ leaseMs: 30_000, assignmentLeaseMs: 30_000, maxAttempts: 3 });
    expect(cfg.limits.fetchTimeoutMs).toBe(15_000);
  });

  it('rejects unknown keys, naming their path', async () => {
    const { file } = await configFile({ ...base, limits: { fetchTimeoutMs: 5, bogus: 1 } });
    await expect(loadConfig({ file, env: {} })).rejects.toThrow(
      /limits\.bogus: Unrecognized key: "bogus"/,
    );
  });

  it('says where a file is not JSON, never quoting it (a token without quotes)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-config-'));
    const file = join(dir, 'node.json');
    const token = 'syt_bWVzaGJvdA_SecretPartOfTheToken';
    await writeFile(file, `{\n  "homeserver": { "accessToken": ${token} }\n}\n`);
    const err = await loadConfig({ file, env: {} }).catch((e) => e);
    expect(err.message).toContain('is not valid JSON (a value without quotes');
    for (let i = 0; i + 4 <= token.length; i++)
      expect(err.message).not.toContain(token.slice(i, i + 4));
    await writeFile(file, '{\n  "owner": "@a:b",\n}\n');
    const place = await loadConfig({ file, env: {} }).catch((e) => e);
    expect(place.message).toMatch(/is not valid JSON \(line 3 column 1\)/);
  });

  it('names the path of a bad value', async () => {
    const { file } = await configFile({ ...base, owner: 'alice' });
    await expect(loadConfig({ file, env: {} })).rejects.toThrow(/owner: a Matrix user id/);
  });

  it('ranks defaults < file < environment < overrides', async () => {
    const { file } = await configFile({ ...base, dataDir: '/from-file' });
    const env = { MESHBOT_DATA_DIR: '/from-env' };
    expect((await loadConfig({ file, env })).dataDir).toBe('/from-env');
    expect((await loadConfig({ file, env, overrides: { dataDir: '/from-flag' } })).dataDir).toBe(
      '/from-flag',
    );
  });

  it('resolves a relative path from the environment or a flag against the working directory', async () => {
    const { dir, file } = await configFile({ ...base, dataDir: 'from-file' });
    expect((await loadConfig({ file, env: {} })).dataDir).toBe(join(dir, 'from-file'));
    // The shell that set MESHBOT_DATA_DIR=data means its own ./data, not the config's folder.
    const cwd = process.cwd();
    const elsewhere = await realpath(await mkdtemp(join(tmpdir(), 'meshbot-cwd-')));
    process.chdir(elsewhere);
    try {
      const env = { MESHBOT_DATA_DIR: 'from-env' };
      expect((await loadConfig({ file, env })).dataDir).toBe(join(elsewhere, 'from-env'));
      const overrides = { dataDir: 'from-flag', engines: { dir: 'engines' } };
      const cfg = await loadConfig({ file, env, overrides });
      expect(cfg.dataDir).toBe(join(elsewhere, 'from-flag'));
      expect(cfg.engines.dir).toBe(join(elsewhere, 'engines'));
    } finally {
      process.chdir(cwd);
    }
  });

  it('reads the access token from a file, relative to the config', async () => {
    const { dir, file } = await configFile({
      ...base,
      homeserver: { url: base.homeserver.url, accessTokenFile: 'token' },
    });
    await writeFile(join(dir, 'token'), 'syt_secret\n');
    expect((await loadConfig({ file, env: {} })).homeserver.accessToken).toBe('syt_secret');
  });

  it('requires a token', async () => {
    const { file } = await configFile({ ...base, homeserver: { url: base.homeserver.url } });
    await expect(loadConfig({ file, env: {} })).rejects.toThrow(
      /accessToken or homeserver.accessTokenFile is required/,
    );
  });

  it('takes the token from the highest layer that gives it, in either form', async () => {
    const { file } = await configFile(base); // a token in the file
    const other = await mkdtemp(join(tmpdir(), 'meshbot-token-'));
    await writeFile(join(other, 'token'), 'syt_from_env_file\n');
    const env = { MESHBOT_ACCESS_TOKEN_FILE: join(other, 'token') };
    expect((await loadConfig({ file, env })).homeserver.accessToken).toBe('syt_from_env_file');
    // A relative path from the environment is the working directory's, not the file's.
    const cwd = process.cwd();
    process.chdir(other);
    try {
      const relative = { MESHBOT_ACCESS_TOKEN_FILE: 'token' };
      const cfg = await loadConfig({ file, env: relative });
      expect(cfg.homeserver.accessToken).toBe('syt_from_env_file');
    } finally {
      process.chdir(cwd);
    }
  });

  it('refuses an empty token file, and a file that holds no JSON object', async () => {
    const { dir, file } = await configFile({
      ...base,
      homeserver: { url: base.homeserver.url, accessTokenFile: 'token' },
    });
    await writeFile(join(dir, 'token'), '\n');
    await expect(loadConfig({ file, env: {} })).rejects.toThrow(/holds no token/);
    for (const content of [null, [1], 'text']) {
      const bad = await configFile(content);
      await expect(loadConfig({ file: bad.file, env: {} })).rejects.toMatchObject({
        code: 'CONFIG',
        message: expect.stringMatching(/must hold a JSON object/),
      });
    }
  });

  it('collects no garbage by default; 60 collects hourly; a fraction or past a week is refused', async () => {
    const gc = async (archive: unknown) =>
      (await loadConfig({ file: (await configFile({ ...base, archive })).file, env: {} })).archive
        .gcIntervalMinutes;
    expect(await gc({})).toBe(0);
    expect(await gc({ gcIntervalMinutes: 60 })).toBe(60);
    expect(await gc({ gcIntervalMinutes: 0 })).toBe(0);
    expect(await gc({ gcIntervalMinutes: 7 * 24 * 60 })).toBe(10_080);
    for (const bad of [-1, 1.5, 7 * 24 * 60 + 1, '60']) {
      await expect(gc({ gcIntervalMinutes: bad })).rejects.toMatchObject({
        code: 'CONFIG',
        message: expect.stringContaining('archive.gcIntervalMinutes'),
      });
    }
  });

  it('refuses an engines.allow entry that is no name, CID or name@CID, naming it', async () => {
    // The node would announce it as an offer that every roster refuses, and leave the mesh.
    const cid = 'baguqeeraxrkqbjwx66ygsgh26tq5x5ncnpdbgmbc5ldngbgvvarvdobwdyya';
    const ok = await configFile({
      ...base,
      engines: { allow: ['wordcount', cid, `fibsum-map@${cid}`] },
    });
    expect((await loadConfig({ file: ok.file, env: {} })).engines.allow).toHaveLength(3);
    for (const entry of ['whisper@latest', 'wordcount@bafy-typo', `${'x'.repeat(120)}@${cid}`]) {
      const { file } = await configFile({ ...base, engines: { allow: ['wordcount', entry] } });
      const err = await loadConfig({ file, env: {} }).then(
        () => new Error(`${entry} was accepted`),
        (e: Error) => e,
      );
      expect(err).toMatchObject({ code: 'CONFIG' });
      expect(err.message).toContain('engines.allow[1]: ');
      expect(err.message).toContain('an engine name, a package CID, or name@CID');
    }
  });
});
