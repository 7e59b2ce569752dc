/**
 * The whisper worker process: forked by the whisper runtime. It decodes audio (hostile bytes
 * from anyone's upload) and runs whisper.cpp (native code) away from the bot, so that a crash
 * in either ends this process and never the bot. It keeps the models it loaded warm between
 * tasks, runs one task at a time, and exits when the bot goes away.
 */
import { AudioCorruptError, AudioError } from '../audio/errors.ts';
import { decodeAudio, encodeWav, planChunks, sliceChunk } from '../audio/index.ts';
import { createModelCache } from './model-cache.ts';
import {
  type ChildMessage,
  parentMessageSchema,
  type RunMessage,
  type WireError,
} from './protocol.ts';
import { transcribe } from './transcribe.ts';

if (!process.send) {
  process.stderr.write('worker-process must be started by the whisper runtime (fork)\n');
  process.exit(2);
}

const send = (msg: ChildMessage) => {
  if (process.connected) process.send?.(msg);
};

/** Shorter than this is no recording of anything (a damaged file, in practice), ms. */
const MIN_AUDIO_MS = 100;

const models = createModelCache(Number(process.env.MESHBOT_WHISPER_MODELS ?? 1));
let queue: Promise<void> = Promise.resolve();

/** CPU time of this process since `from`, ms (whisper.cpp's threads are in it). */
const cpuSince = (from: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
};

async function run(msg: RunMessage): Promise<ChildMessage> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const { pcm, format, durationMs } = await decodeAudio(msg.audio, { maxSeconds: msg.maxSeconds });
  const decodeMs = performance.now() - started;
  // A damaged file can decode to a few samples without the decoder complaining.
  if (durationMs < MIN_AUDIO_MS)
    throw new AudioCorruptError(format, 'it decodes to almost no sound');
  const split = msg.split;
  if (split && durationMs > split.aboveSeconds * 1000) {
    // Longer audio gets longer parts rather than more of them than the mesh can track.
    const chunks = planChunks(pcm, { chunkSeconds: split.chunkSeconds, maxChunks: split.maxParts });
    if (chunks.length >= 2) {
      const rate = pcm.sampleRate;
      const parts = chunks.map((c) => ({
        startMs: (c.startSample / rate) * 1000,
        endMs: (c.endSample / rate) * 1000,
        wav: encodeWav(sliceChunk(pcm, c)),
      }));
      return { type: 'split', id: msg.id, durationMs, format, parts, cpuMs: cpuSince(cpu) };
    }
  }
  const model = await models.get(msg.modelPath);
  const t0 = performance.now();
  const result = await transcribe(model, pcm, {
    language: msg.language,
    threads: msg.threads,
    temperatureInc: msg.temperatureInc,
    onSegment: (endMs) => {
      if (durationMs > 0)
        send({ type: 'progress', id: msg.id, fraction: Math.min(1, endMs / durationMs) });
    },
  });
  const transcribeMs = performance.now() - t0;
  const cpuMs = cpuSince(cpu);
  return {
    type: 'transcript',
    id: msg.id,
    durationMs,
    format,
    ...result,
    decodeMs,
    transcribeMs,
    cpuMs,
  };
}

function failure(err: unknown): WireError {
  if (err instanceof AudioError) {
    return {
      code: err.code as WireError['code'],
      message: err.message,
      userMessage: err.userMessage,
    };
  }
  const message = String((err as Error)?.message ?? err).slice(0, 2_000);
  if ((err as { code?: string }).code === 'MODEL_LOAD') return { code: 'MODEL_LOAD', message };
  return { code: 'FAILED', message };
}

process.on('message', (raw) => {
  const parsed = parentMessageSchema.safeParse(raw);
  if (!parsed.success) {
    process.stderr.write(`whisper worker: dropped an invalid message: ${parsed.error.message}\n`);
    return;
  }
  const msg = parsed.data;
  // whisper.cpp cannot be interrupted mid-run: the runtime kills this process to cancel.
  if (msg.type === 'cancel') return;
  queue = queue
    .then(async () => send(await run(msg)))
    .catch((err: unknown) => send({ type: 'failed', id: msg.id, error: failure(err) }));
});

process.on('disconnect', () => {
  void models.clear().finally(() => process.exit(0));
});

send({ type: 'ready', pid: process.pid });
