/**
 * Whisper end to end on a real Synapse with 3 bots: a person sends a voice message and
 * replies `!run whisper` to it; runs it on a file added with `meshbot add`; and a 10-minute
 * recording is split across the nodes and comes back as one ordered transcript. The model is
 * a generated ggml model scripted to read any audio as one phrase (test/support/whisper-model),
 * added to the first bot only: the others fetch it from the mesh.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevMesh, startDevMesh } from '../../src/dev/dev-mesh.ts';
import { isProgressNote, type Message } from '../../src/dev/person.ts';
import { silentLogger } from '../../src/log/logger.ts';
import { createStore } from '../../src/store/index.ts';
import { createModels } from '../../src/whisper/models.ts';
import { decodeTranscript } from '../../src/whisper/transcript.ts';
import { longSpeech, speech } from '../support/audio.ts';
import { testMeshOptions } from '../support/mesh.ts';
import { makeScriptedModel } from '../support/whisper-model/models.ts';

const PHRASE = ' hello from the mesh';
const REPLY_MS = 90_000;
let mesh: DevMesh;
let dir: string;

beforeAll(async () => {
  const opts = await testMeshOptions('whisper', { bots: 3 });
  dir = opts.dir;
  const model = await makeScriptedModel({ path: join(dir, 'scripted.bin'), phrase: PHRASE });
  // Only the first bot has the model; the others fetch it from the mesh by its CID.
  const store = createStore({ dir: join(dir, 'bot1', 'store'), logger: silentLogger });
  await store.start();
  const sources = {
    scripted: { sha256: model.sha256, url: 'https://models.invalid/scripted.bin' },
  };
  await createModels({
    dir: join(dir, 'bot1', 'models'),
    store,
    sources,
    allowDownload: false,
  }).add('scripted', model.path);
  await store.stop();
  const whisper = {
    defaultModel: 'scripted',
    models: {
      ...sources,
      missing: { sha256: 'f'.repeat(64), url: 'https://models.invalid/missing.bin' },
    },
    download: false,
    threads: 1,
    temperatureInc: 0,
    splitAboveSeconds: 120,
    chunkSeconds: 30,
  };
  mesh = await startDevMesh({
    ...opts,
    botConfig: { whisper, limits: { fetchTimeoutMs: 10_000 } },
  });
}, 180_000);

afterAll(async () => {
  await mesh?.stop();
});

const bots = () => new Set(mesh.bots.map((b) => b.userId as string));

function replyTo(root: string, timeoutMs = REPLY_MS): Promise<Message> {
  return mesh.person.waitFor(
    (m) =>
      m.type === 'm.room.message' &&
      bots().has(m.sender) &&
      m.threadRoot === root &&
      m.content.msgtype === 'm.notice' &&
      !isProgressNote(m),
    timeoutMs,
  );
}

async function ask(body: string, timeoutMs = REPLY_MS): Promise<Message> {
  return replyTo(await mesh.person.send(mesh.roomId, body), timeoutMs);
}

async function voiceMessage(file: string): Promise<string> {
  const bytes = await readFile(file);
  const { content_uri } = await mesh.person.client.uploadContent(bytes, {
    type: 'audio/ogg',
    name: 'voice.ogg',
  });
  const content = {
    msgtype: 'm.audio',
    body: 'Voice message',
    url: content_uri,
    info: { mimetype: 'audio/ogg', size: bytes.byteLength },
    'org.matrix.msc3245.voice': {},
  };
  const { event_id } = await mesh.person.client.sendMessage(mesh.roomId, content as never);
  return event_id;
}

const resultOf = (m: Message) => /result: (\S+)/.exec(m.body)?.[1];

describe('whisper in a mesh of three bots', () => {
  it('transcribes a voice message that `!run whisper` replies to', async () => {
    const voice = await voiceMessage(
      await speech(dir, 'voice', 'Can you read this message for me?'),
    );
    const content = {
      msgtype: 'm.text',
      body: '!run whisper',
      'm.relates_to': { 'm.in_reply_to': { event_id: voice } },
    };
    const { event_id } = await mesh.person.client.sendMessage(mesh.roomId, content as never);
    const reply = await replyTo(event_id);
    expect(reply.body.split('\n')[0]).toBe(PHRASE.trim());
    expect(reply.body).toContain('model scripted');
  });

  it('transcribes every voice message by itself once `!autotranscribe on` is set, until off', async () => {
    expect((await ask('!autotranscribe on')).body).toContain(
      'every voice message posted here is transcribed',
    );
    const voice = await voiceMessage(await speech(dir, 'auto', 'Nobody asked, but here it is.'));
    expect((await replyTo(voice)).body.split('\n')[0]).toBe(PHRASE.trim());
    expect((await ask('!autotranscribe off')).body).toContain('no longer transcribed');
  });

  it('transcribes a file added with `meshbot add`, with timestamps on request', async () => {
    const cid = await mesh.add(await speech(dir, 'file', 'This is a file on disk.', 'mp3'));
    const reply = await ask(`!run whisper ${cid} timestamps=yes`);
    expect(reply.body.split('\n')[0]).toBe(`[00:00] ${PHRASE.trim()}`);
  });

  it('checks a transcript on a second node with replicas=2, comparing their words', async () => {
    const cid = await mesh.add(await speech(dir, 'twice', 'Two nodes hear this.', 'wav'));
    const reply = await ask(`!run whisper ${cid} replicas=2`);
    expect(reply.body.split('\n')[0]).toBe(PHRASE.trim());
    expect(reply.body).toContain('verified: 2 of 2 nodes agreed on it');
  });

  it('splits a 10-minute recording across the nodes and answers with one ordered transcript', async () => {
    const cid = await mesh.add(
      await longSpeech(dir, 'long', 'One more sentence for the long recording.', 600),
    );
    const logFrom = (await readFile(join(dir, 'bots.log'))).byteLength;
    const started = Date.now();
    const reply = await ask(`!run whisper ${cid}`, 300_000);
    const took = Date.now() - started;
    const result = resultOf(reply);
    expect(result).toBeDefined();
    const t = decodeTranscript(await catFromBots(result as string));
    expect(t?.parts).toBeGreaterThanOrEqual(16);
    expect(t?.durationMs).toBeGreaterThan(590_000);
    const starts = t?.segments.map((s) => s.startMs) ?? [];
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    expect(starts[starts.length - 1]).toBeGreaterThan(540_000);
    expect(t?.segments.every((s) => s.text === PHRASE.trim())).toBe(true);
    // Subtitles for long audio come in the same thread.
    const srt = await mesh.person.waitFor(
      (m) => m.threadRoot === reply.threadRoot && m.body === 'transcript.srt',
      30_000,
    );
    expect(srt.content.url).toMatch(/^mxc:\/\//);
    // Every node ran parts of it.
    expect((await partWorkers(logFrom)).size).toBe(3);
    expect(took).toBeLessThan(300_000);
  }, 360_000);

  it('answers corrupt audio, a CID that is not audio and a model no node has clearly, and keeps serving', async () => {
    const corrupt = join(dir, 'corrupt.ogg');
    const good = await readFile(await speech(dir, 'c', 'corrupt'));
    // The Ogg headers, then garbage where the audio pages were.
    await writeFile(corrupt, Buffer.concat([good.subarray(0, 100), Buffer.alloc(5_000, 7)]));
    expect((await ask(`!run whisper ${await mesh.add(corrupt)}`)).body).toMatch(
      /bad input for whisper: .*(corrupt|decode)/i,
    );
    const text = join(dir, 'text.txt');
    await writeFile(text, 'just some text, not audio\n');
    expect((await ask(`!run whisper ${await mesh.add(text)}`)).body).toMatch(
      /bad input for whisper: .*not .*audio/i,
    );
    const cid = await mesh.add(await speech(dir, 'm', 'model'));
    expect((await ask(`!run whisper ${cid} model=missing`)).body).toMatch(/model .*missing/i);
    expect((await ask(`!run whisper ${cid}`)).body.split('\n')[0]).toBe(PHRASE.trim());
  }, 360_000);
});

/** A result from whichever bot's store holds it. */
async function catFromBots(result: string): Promise<Uint8Array> {
  const { CID } = await import('multiformats/cid');
  for (let i = 0; i < mesh.bots.length; i++) {
    const store = createStore({ dir: join(dir, `bot${i + 1}`, 'store'), logger: silentLogger });
    await store.start();
    try {
      return await store.cat(CID.parse(result), { offline: true });
    } catch {
      // not on this bot
    } finally {
      await store.stop();
    }
  }
  throw new Error(`no bot holds ${result}`);
}

/** The bots that transcribed something since byte `from` of the bots' log. */
async function partWorkers(from: number): Promise<Set<string>> {
  const workers = new Set<string>();
  const log = (await readFile(join(dir, 'bots.log'))).subarray(from).toString('utf8');
  for (const line of log.split('\n')) {
    if (!line.includes('"msg":"engine log"') || !line.includes('transcribed in')) continue;
    const bot = /"bot":(\d+)/.exec(line)?.[1];
    if (bot) workers.add(bot);
  }
  return workers;
}
