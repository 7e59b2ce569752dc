/**
 * Whisper through the mesh, next to baselines measured in the same run:
 * - real-time factor of `!run whisper` on a 60 s clip (Ogg/Opus, as a voice message) with a
 *   model of the real base size, through 3 bots on a real Synapse, next to whisper.cpp's own
 *   CLI built for this CPU from the same sources (bench/whisper-cli.ts) on the same audio,
 *   same model, same threads, rounds interleaved so both see the same load;
 * - a 10-minute recording split over the 3 nodes: the CPU of every run it took (the split and
 *   every part, measured in the whisper worker processes) and its wall time, next to one node
 *   transcribing it whole with the same runtime.
 * The models are random, with the real shapes: the same compute as the real ones (no real
 * weights can be downloaded here). Sizes: MESHBOT_BENCH_WHISPER_ROUNDS (3),
 * MESHBOT_BENCH_WHISPER_THREADS (2), MESHBOT_BENCH_WHISPER_LONG_MODEL (tiny).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startDevMesh } from '../src/dev/dev-mesh.ts';
import { isProgressNote } from '../src/dev/person.ts';
import { createEnginePackage } from '../src/engines/manifest.ts';
import type { RunRequest } from '../src/engines/types.ts';
import { createHomeserver } from '../src/homeserver/index.ts';
import { createLogger, silentLogger } from '../src/log/logger.ts';
import { createStore } from '../src/store/index.ts';
import { whisperConfigSchema } from '../src/whisper/config.ts';
import { createModels } from '../src/whisper/models.ts';
import { createWhisperRuntime } from '../src/whisper/runtime.ts';
import { longSpeech } from '../test/support/audio.ts';
import { makeRandomModel } from '../test/support/whisper-model/models.ts';
import { type Benchmark, figure, percentile } from './harness.ts';
import { cliTranscribe, whisperCli } from './whisper-cli.ts';

const ROUNDS = Number(process.env.MESHBOT_BENCH_WHISPER_ROUNDS ?? 3);
const THREADS = Number(process.env.MESHBOT_BENCH_WHISPER_THREADS ?? 2);
const LONG_MODEL = process.env.MESHBOT_BENCH_WHISPER_LONG_MODEL ?? 'tiny';
const CLIP_S = 60;
const LONG_S = 600;
const BOTS = 3;
const exec = promisify(execFile);
const median = (xs: number[]) => percentile(xs, 50);
const SENTENCE = 'This sentence is spoken again and again for the benchmark of the mesh.';

interface Setup {
  dir: string;
  models: Record<string, { sha256: string; url: string }>;
  files: Record<string, string>;
}

async function prepare(): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), 'meshbot-bench-whisper-'));
  const models: Setup['models'] = {};
  const files: Record<string, string> = {};
  for (const size of ['base', LONG_MODEL] as const) {
    if (files[size]) continue;
    const m = await makeRandomModel({
      path: join(dir, `${size}.bin`),
      size: size as 'base' | 'tiny',
    });
    models[size] = { sha256: m.sha256, url: `https://models.invalid/${size}.bin` };
    files[size] = m.path;
  }
  // Every node has the models already: the figures are about transcribing, not fetching.
  for (let i = 1; i <= BOTS; i++) {
    const store = createStore({ dir: join(dir, `bot${i}`, 'store'), logger: silentLogger });
    await store.start();
    const m = createModels({
      dir: join(dir, `bot${i}`, 'models'),
      store,
      sources: models,
      allowDownload: false,
    });
    for (const [name, path] of Object.entries(files)) await m.add(name, path);
    await store.stop();
  }
  return { dir, models, files };
}

const whisperConfig = (models: Setup['models'], splitAboveSeconds: number) => ({
  defaultModel: 'base',
  models,
  download: false,
  threads: THREADS,
  temperatureInc: 0,
  splitAboveSeconds,
  chunkSeconds: 30,
});

/** CPU ms of the whisper runs logged since line `from` (the split and every part). */
function cpuSince(lines: string[], from: number): { cpuMs: number; runs: number } {
  let cpuMs = 0;
  let runs = 0;
  for (const line of lines.slice(from)) {
    if (!line.includes('"msg":"engine log"') || !line.includes('"engine":"whisper"')) continue;
    const m = /cpu (\d+) ms/.exec(line);
    if (m) {
      cpuMs += Number(m[1]);
      runs++;
    }
  }
  return { cpuMs, runs };
}

/** One node alone: the same runtime, never splitting, on the whole recording. */
async function alone(s: Setup, audio: Uint8Array): Promise<{ cpuMs: number; wallMs: number }> {
  const store = createStore({ dir: join(s.dir, 'alone', 'store'), logger: silentLogger });
  await store.start();
  const config = whisperConfigSchema.parse(whisperConfig(s.models, LONG_S * 10));
  const models = createModels({
    dir: join(s.dir, 'bot1', 'models'),
    store,
    sources: config.models,
    allowDownload: false,
  });
  const runtime = createWhisperRuntime({ config, models, store });
  const manifest = JSON.parse(
    await readFile(new URL('../engines/whisper/manifest.json', import.meta.url), 'utf8'),
  );
  const engine = createEnginePackage(manifest, '');
  try {
    await runtime.start();
    const started = performance.now();
    const r = await runtime.run({
      engine,
      input: audio,
      params: { model: LONG_MODEL },
    } as RunRequest);
    return { cpuMs: r.cpuMs, wallMs: performance.now() - started };
  } finally {
    await runtime.stop();
    await store.stop();
  }
}

export const whisperBenchmark: Benchmark = {
  name: 'whisper',
  description:
    'real-time factor through the mesh next to the whisper.cpp CLI built for this CPU; a 10-minute recording split over 3 nodes next to one node alone',
  async run() {
    const cli = await whisperCli();
    const s = await prepare();
    const clip = await longSpeech(s.dir, 'clip', SENTENCE, CLIP_S);
    const clipWav = join(s.dir, 'clip16.wav');
    await exec('ffmpeg', [
      '-loglevel',
      'error',
      '-y',
      '-i',
      clip,
      '-ar',
      '16000',
      '-ac',
      '1',
      clipWav,
    ]);
    const long = await longSpeech(s.dir, 'long', SENTENCE, LONG_S);
    const lines: string[] = [];
    const log = createLogger({ level: 'info', write: (l) => lines.push(l) });
    const hs = createHomeserver({ name: `bench-whisper-${process.pid}` });
    await hs.start();
    const alone10 = await alone(s, await readFile(long));
    const mesh = await startDevMesh({
      dir: s.dir,
      bots: BOTS,
      log,
      homeserver: hs,
      prefix: 'bench-whisper-',
      botConfig: { whisper: whisperConfig(s.models, 120), limits: { fetchTimeoutMs: 30_000 } },
    });
    const ask = async (body: string, timeoutMs: number) => {
      const started = performance.now();
      const id = await mesh.person.send(mesh.roomId, body);
      const reply = await mesh.person.waitFor(
        (m) =>
          m.threadRoot === id &&
          m.type === 'm.room.message' &&
          m.content.msgtype === 'm.notice' &&
          !isProgressNote(m),
        timeoutMs,
      );
      if (!/result: /.test(reply.body)) throw new Error(`whisper failed: ${reply.body}`);
      return performance.now() - started;
    };
    const meshMs: number[] = [];
    const cliMs: number[] = [];
    let split: { wallMs: number; cpuMs: number; runs: number };
    try {
      const clipCid = await mesh.add(clip);
      await ask(`!run whisper ${clipCid}`, 600_000); // warm-up: fetches, model load
      for (let i = 0; i < ROUNDS; i++) {
        cliMs.push(await cliTranscribe(cli, s.files.base as string, clipWav, THREADS));
        meshMs.push(await ask(`!run whisper ${clipCid}`, 600_000));
      }
      const longCid = await mesh.add(long);
      const from = lines.length;
      const wallMs = await ask(`!run whisper ${longCid} model=${LONG_MODEL}`, 1_800_000);
      split = { wallMs, ...cpuSince(lines, from) };
    } finally {
      await mesh.stop();
      await hs.stop();
    }
    const rtf = (ms: number) => ms / 1000 / CLIP_S;
    return [
      figure(
        `real-time factor, ${CLIP_S} s clip, base-size model: mesh vs whisper.cpp CLI, median`,
        'x',
        rtf(median(meshMs)),
        rtf(median(cliMs)),
      ),
      figure(
        `real-time factor, ${CLIP_S} s clip: mesh vs whisper.cpp CLI, worst`,
        'x',
        rtf(Math.max(...meshMs)),
        rtf(Math.max(...cliMs)),
      ),
      figure(
        `10-minute recording (${LONG_MODEL}-size model): CPU, split over ${BOTS} nodes (${split.runs} runs) vs one node alone`,
        's',
        split.cpuMs / 1000,
        alone10.cpuMs / 1000,
      ),
      figure(
        `10-minute recording: wall time, split over ${BOTS} nodes on this machine vs one node alone`,
        's',
        split.wallMs / 1000,
        alone10.wallMs / 1000,
      ),
    ];
  },
};
