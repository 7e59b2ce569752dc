/**
 * A node gets a Whisper model from its disk, else from a peer by CID, else from the model's
 * public source, and only ever uses a file whose sha256 is the pinned one. The "public source"
 * here is a local HTTP server serving a few MB of random bytes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../../src/store/memory.ts';
import type { BlockFetcher } from '../../../src/store/types.ts';
import {
  BUILTIN_MODELS,
  WHISPER_DEFAULTS,
  whisperConfigSchema,
} from '../../../src/whisper/config.ts';
import { createModels, type ModelsOptions } from '../../../src/whisper/models.ts';

const MODEL = randomBytes(4 * 1024 * 1024 + 4321);
// A custom model: the ggml magic (0x67676d6c, little-endian) and then anything.
const OTHER = Buffer.concat([Buffer.from('lmgg', 'latin1'), randomBytes(MODEL.length - 4)]);
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const SHA = sha256(MODEL);

const requests: string[] = [];
let server: Server;
let base = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const body = req.url === '/good.bin' || req.url === '/slow.bin' ? MODEL : OTHER;
    if (req.url === '/missing.bin') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': body.length });
    const step = 256 * 1024;
    let at = 0;
    const next = () => {
      if (at >= body.length) return void res.end();
      const chunk = body.subarray(at, at + step);
      at += step;
      if (req.url === '/slow.bin') res.write(chunk, () => setTimeout(next, 20));
      else res.write(chunk, next);
    };
    next();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const dirs: string[] = [];
afterEach(async () => {
  requests.length = 0;
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});
const newDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'meshbot-models-'));
  dirs.push(dir);
  return dir;
};

const source = (path: string) => ({ sha256: SHA, url: `${base}${path}`, bytes: MODEL.length });
async function setup(opts: Partial<ModelsOptions> & { path?: string } = {}) {
  const store = createMemoryStore();
  const dir = opts.dir ?? (await newDir());
  const models = createModels({
    dir,
    store,
    sources: { tiny: source(opts.path ?? '/good.bin') },
    allowDownload: true,
    progressBar: false,
    ...opts,
  });
  return { store, dir, models };
}
/** A peer that holds the model: the Matrix or bitswap path, as the store sees it. */
async function peerWithModel(): Promise<{ fetcher: BlockFetcher; cid: string }> {
  const peer = createMemoryStore();
  const cid = await peer.addBytes(MODEL);
  return {
    cid: cid.toString(),
    fetcher: {
      name: 'peer',
      fetch: (c, { signal }) => peer.getBlock(c, { signal, offline: true }),
    },
  };
}
const files = async (dir: string) => (await readdir(dir)).filter((f) => f !== 'index.json');

describe('Whisper models', () => {
  it('downloads a model with progress, checks its sha256 and keeps it under its sha256', async () => {
    const { store, dir, models } = await setup();
    const progress: unknown[] = [];
    const file = await models.ensure('tiny', { onProgress: (p) => progress.push(p) });

    expect(file).toMatchObject({ name: 'tiny', sha256: SHA, bytes: MODEL.length });
    expect(file.path).toBe(join(dir, `${SHA}.bin`));
    expect(Buffer.from(await readFile(file.path)).equals(MODEL)).toBe(true);
    // addFile (the file on disk) and addBytes (the same bytes in memory) give one CID
    expect(file.cid).toBe((await store.addBytes(MODEL)).toString());
    expect(progress.at(-1)).toEqual({
      source: 'download',
      bytes: MODEL.length,
      total: MODEL.length,
    });
    expect(requests).toEqual(['/good.bin']);
    expect(await files(dir)).toEqual([`${SHA}.bin`]);
    const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'));
    expect(index.models.tiny).toEqual({ sha256: SHA, cid: file.cid, bytes: MODEL.length });
    expect(await models.local()).toEqual([
      { name: 'tiny', sha256: SHA, cid: file.cid, bytes: MODEL.length },
    ]);
  });

  it('refuses a download whose sha256 differs and keeps nothing of it', async () => {
    const { dir, models } = await setup({ path: '/bad.bin' });
    const err = await models.ensure('tiny').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MODEL_CHECKSUM', retryable: false, expected: SHA });
    expect((err as { actual: string }).actual).toBe(sha256(OTHER));
    expect((err as Error & { userMessage: string }).userMessage).toMatch(/"tiny".*discarded/);
    expect(await files(dir)).toEqual([]);
    expect(await models.local()).toEqual([]);
  });

  it('takes the model from the mesh by CID and makes no HTTP request', async () => {
    const { store, models } = await setup();
    const peer = await peerWithModel();
    store.addFetcher(peer.fetcher);
    const progress: { source: string }[] = [];
    const file = await models.ensure('tiny', {
      cid: peer.cid,
      onProgress: (p) => progress.push(p),
    });

    expect(file.cid).toBe(peer.cid);
    expect(Buffer.from(await readFile(file.path)).equals(MODEL)).toBe(true);
    expect(requests).toEqual([]);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((p) => p.source === 'mesh')).toBe(true);
  });

  it('is unavailable, and retryable, when no peer has it and downloads are off', async () => {
    const { store, models } = await setup({ allowDownload: false, meshTimeoutMs: 200 });
    const silent: BlockFetcher = {
      name: 'silent',
      fetch: (_c, { signal }) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    };
    store.addFetcher(silent);
    const { cid } = await peerWithModel();
    for (const opts of [{}, { cid }]) {
      const err = await models.ensure('tiny', opts).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'MODEL_UNAVAILABLE', retryable: true });
      expect((err as Error & { userMessage: string }).userMessage).toMatch(
        /downloads are disabled/,
      );
    }
    const timedOut = await models.ensure('tiny', { cid }).catch((e: unknown) => e);
    expect((timedOut as Error).message).toMatch(/no peer in the mesh sent it within 200 ms/);
    expect(requests).toEqual([]);
  });

  it('names the known models for an unknown one', async () => {
    const { models } = await setup();
    const err = await models.ensure('huge').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MODEL_UNKNOWN', known: ['tiny'] });
    expect((err as Error & { userMessage: string }).userMessage).toMatch(/"huge".*tiny/);
    // Names of Object.prototype's members are no models either (model= comes from the room).
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      await expect(models.ensure(name)).rejects.toMatchObject({ code: 'MODEL_UNKNOWN' });
    }
  });

  it('shares one download among concurrent callers; one giving up does not stop the others', async () => {
    const { models } = await setup({ path: '/slow.bin' });
    const quitter = new AbortController();
    const quit = models
      .ensure('tiny', {
        signal: quitter.signal,
        onProgress: () => quitter.abort(new Error('not waiting')),
      })
      .catch((e: unknown) => e);
    const [a, b] = await Promise.all([models.ensure('tiny'), models.ensure('tiny')]);
    expect(await quit).toMatchObject({ message: 'not waiting' });
    expect(a).toEqual(b);
    expect(requests).toEqual(['/slow.bin']);
  });

  it('finds the model on disk after a restart without fetching it', async () => {
    const { store, dir, models } = await setup();
    const first = await models.ensure('tiny');
    const again = createModels({
      dir,
      store,
      sources: { tiny: source('/missing.bin') },
      allowDownload: true,
      progressBar: false,
    });
    expect(await again.local()).toEqual([
      { name: 'tiny', sha256: SHA, cid: first.cid, bytes: MODEL.length },
    ]);
    expect(await again.ensure('tiny')).toEqual(first);
    expect(requests).toEqual(['/good.bin']);
  });

  it('replaces a corrupt file on disk rather than using it', async () => {
    const { dir, models } = await setup();
    await writeFile(join(dir, `${SHA}.bin`), OTHER);
    const file = await models.ensure('tiny');
    expect(Buffer.from(await readFile(file.path)).equals(MODEL)).toBe(true);
    expect(requests).toEqual(['/good.bin']);
  });

  it('adds a custom model known by its name and sha256; refuses a file that contradicts a pin', async () => {
    const { dir, models } = await setup({ allowDownload: false });
    const custom = join(dir, 'custom.bin');
    await writeFile(custom, OTHER);
    const added = await models.add('my-model', custom);
    expect(added).toMatchObject({ name: 'my-model', sha256: sha256(OTHER), bytes: OTHER.length });
    expect(await models.ensure('my-model')).toEqual(added);
    expect(await models.ensure(sha256(OTHER))).toEqual(added);
    await expect(models.add('tiny', custom)).rejects.toMatchObject({ code: 'MODEL_CHECKSUM' });
    expect(await models.local()).toEqual([
      { name: 'my-model', sha256: sha256(OTHER), cid: added.cid, bytes: OTHER.length },
    ]);
  });

  it('refuses to add a file that is not a ggml Whisper model, and keeps nothing of it', async () => {
    const { dir, models } = await setup({ allowDownload: false });
    const notes = join(dir, 'notes.txt');
    await writeFile(notes, 'hello world\nfoo\n');
    await expect(models.add('mine', notes)).rejects.toMatchObject({
      code: 'BAD_INPUT',
      message: `${notes} is not a ggml Whisper model (whisper.cpp would not load it)`,
    });
    expect(await models.local()).toEqual([]);
  });
});

describe('whisper config', () => {
  it('has documented defaults and merges models over the built-in ones', () => {
    expect(WHISPER_DEFAULTS).toMatchObject({
      enabled: true,
      defaultModel: 'base.en',
      download: true,
      splitAboveSeconds: 120,
      chunkSeconds: 30,
      maxAudioSeconds: 10_800,
      autoTranscribe: false,
    });
    expect(WHISPER_DEFAULTS.threads).toBeGreaterThanOrEqual(1);
    expect(WHISPER_DEFAULTS.threads).toBeLessThanOrEqual(4);
    expect(WHISPER_DEFAULTS.models['base.en']?.url).toBe(
      'https://huggingface.co/ggerganov/whisper.cpp/resolve/main/ggml-base.en.bin',
    );
    const mine = { sha256: SHA.toUpperCase(), url: 'https://example.org/m.bin' };
    const c = whisperConfigSchema.parse({ models: { mine }, defaultModel: 'mine' });
    expect(c.models.mine).toEqual({ ...mine, sha256: SHA });
    expect(Object.keys(c.models)).toEqual([...Object.keys(BUILTIN_MODELS), 'mine']);
  });

  it('names the path of a bad value', () => {
    const bad = [
      { models: { x: { sha256: 'abc', url: 'https://example.org/x' } } },
      { models: { x: { sha256: SHA, url: 'http://example.org/x' } } },
      { defaultModel: 'nope' },
      { chunkSeconds: 300 },
      { colour: 'blue' },
    ];
    const paths = bad.map((input) => {
      const r = whisperConfigSchema.safeParse(input);
      return r.success ? 'accepted' : r.error.issues.map((i) => i.path.join('.')).join(',');
    });
    expect(paths).toEqual(['models.x.sha256', 'models.x.url', 'defaultModel', 'chunkSeconds', '']);
  });
});
