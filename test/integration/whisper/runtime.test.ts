/**
 * The whisper runtime with everything real: smart-whisper's whisper.cpp in the worker
 * process, a generated ggml model scripted to read any audio as one phrase, real speech from
 * espeak-ng, and a real helia store for the models and the parts of a split recording.
 */
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEnginePackage } from '../../../src/engines/manifest.ts';
import type { EngineRuntime, RunRequest } from '../../../src/engines/types.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { createStore, type Store } from '../../../src/store/index.ts';
import { whisperConfigSchema } from '../../../src/whisper/config.ts';
import { createModels } from '../../../src/whisper/models.ts';
import { createWhisperRuntime } from '../../../src/whisper/runtime.ts';
import { decodeTranscript } from '../../../src/whisper/transcript.ts';
import { longSpeech, speech } from '../../support/audio.ts';
import { makeScriptedModel } from '../../support/whisper-model/models.ts';

const PHRASE = ' the scripted phrase';
let dir: string;
let store: Store;
let runtime: EngineRuntime;
let announced: { name: string; sha256: string; cid?: string }[] = [];

const engine = createEnginePackage(
  JSON.parse(
    await readFile(new URL('../../../engines/whisper/manifest.json', import.meta.url), 'utf8'),
  ),
  '',
);
const run = (
  input: Uint8Array,
  params: Record<string, string> = {},
): ReturnType<EngineRuntime['run']> => runtime.run({ engine, input, params } as RunRequest);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshbot-whisper-rt-'));
  store = createStore({ dir: join(dir, 'store'), logger: silentLogger });
  await store.start();
  const model = await makeScriptedModel({ path: join(dir, 'scripted.bin'), phrase: PHRASE });
  const sources = {
    scripted: { sha256: model.sha256, url: 'https://models.invalid/scripted.bin' },
    liar: { sha256: 'e'.repeat(64), url: 'https://models.invalid/liar.bin' },
  };
  const config = whisperConfigSchema.parse({
    defaultModel: 'scripted',
    models: sources,
    download: false,
    threads: 2,
    temperatureInc: 0,
    splitAboveSeconds: 20,
    chunkSeconds: 8,
  });
  const models = createModels({
    dir: join(dir, 'models'),
    store,
    sources: config.models,
    allowDownload: false,
  });
  await models.add('scripted', model.path);
  runtime = createWhisperRuntime({ config, models, store, meshModels: () => announced });
  await runtime.start();
}, 120_000);

afterAll(async () => {
  await runtime?.stop();
  await store?.stop();
});

describe('the whisper runtime', () => {
  it('transcribes a voice message (Ogg/Opus) into a transcript with segments', async () => {
    const result = await run(
      await readFile(await speech(dir, 'v', 'Hello there, this is a voice message.')),
    );
    const t = decodeTranscript(result.output);
    expect(t?.text).toBe(PHRASE.trim());
    expect(t?.segments[0]).toMatchObject({ startMs: 0, text: PHRASE.trim() });
    expect(t?.model.name).toBe('scripted');
    expect(t?.durationMs).toBeGreaterThan(1_000);
  });

  it('transcribes audio under a second (whisper.cpp skips such input unless padded), run after run', async () => {
    const audio = await readFile(await speech(dir, 'w', 'Again.', 'wav'));
    for (const r of [await run(audio), await run(audio)]) {
      expect(decodeTranscript(r.output)?.text).toBe(PHRASE.trim());
      expect(r.logs[0]).toMatch(/^decoded wav in \d+ ms, transcribed in \d+ ms, cpu \d+ ms$/);
    }
  });

  it('splits long audio into parts in the store, cut near every chunk length, covering it all', async () => {
    const audio = await readFile(await longSpeech(dir, 'long', 'A sentence that repeats.', 45));
    const result = await run(audio);
    const parts = result.split?.parts ?? [];
    expect(parts.length).toBeGreaterThanOrEqual(4);
    expect(parts.map((p) => p.params.part)).toEqual(
      parts.map((_, i) => `${i + 1}/${parts.length}`),
    );
    const offsets = parts.map((p) => Number(p.params.offsetMs));
    expect(offsets[0]).toBe(0);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    // A part is a task of its own: it transcribes, and says where it starts.
    const { CID } = await import('multiformats/cid');
    const second = parts[1];
    const wav = await store.cat(CID.parse(second?.input ?? ''), { offline: true });
    const t = decodeTranscript((await run(wav, second?.params)).output);
    expect(t).toMatchObject({ text: PHRASE.trim(), offsetMs: offsets[1] });
  }, 120_000);

  it('answers corrupt audio and bytes that are not audio with bad input, and keeps serving', async () => {
    const good = await readFile(await speech(dir, 'c', 'corrupt'));
    const corrupt = Buffer.concat([good.subarray(0, 100), Buffer.alloc(4_000, 0x5a)]);
    await expect(run(corrupt)).rejects.toMatchObject({ code: 'ENGINE_BAD_INPUT' });
    await expect(run(new TextEncoder().encode('not audio at all'))).rejects.toMatchObject({
      code: 'ENGINE_BAD_INPUT',
    });
    await expect(run(good, { nosuch: '1' })).rejects.toMatchObject({ code: 'ENGINE_BAD_INPUT' });
    expect(decodeTranscript((await run(good)).output)?.text).toBe(PHRASE.trim());
  });

  it('refuses a model from a peer whose bytes fail the pinned checksum', async () => {
    const fake = join(dir, 'fake.bin');
    await writeFile(fake, Buffer.alloc(100_000, 3));
    announced = [
      { name: 'liar', sha256: 'e'.repeat(64), cid: (await store.addFile(fake)).toString() },
    ];
    const audio = await readFile(await speech(dir, 'l', 'liar'));
    await expect(run(audio, { model: 'liar' })).rejects.toMatchObject({ code: 'MODEL_CHECKSUM' });
    await expect(run(audio, { model: 'nosuchmodel' })).rejects.toMatchObject({
      code: 'MODEL_UNKNOWN',
    });
  });
});
