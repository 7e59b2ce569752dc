/**
 * The whisper engine runtime: speech to text with whisper.cpp (through smart-whisper) in a
 * worker process that keeps its models loaded. A run resolves its model (from disk, the mesh
 * or the model's public source, checked against its sha256), then either transcribes the
 * audio or, when it is long, splits it into parts that the mesh runs as tasks of their own.
 */

import { transcriptText } from '../audio/subtitles.ts';
import { EngineRefusedError } from '../engines/errors.ts';
import type { EngineRuntime, RunRequest, RunResult } from '../engines/types.ts';
import { type Logger, silentLogger } from '../log/logger.ts';
import { MAX_SPLIT_PARTS } from '../queue/split.ts';
import type { Store } from '../store/types.ts';
import type { WhisperConfig } from './config.ts';
import { dispatch, type WorkerAnswer } from './dispatch.ts';
import type { ModelFile, ModelInfo, ModelProgress, Models } from './models.ts';
import { parseWhisperParams, partParams, type WhisperParams } from './params.ts';
import { encodeTranscript, TRANSCRIPT_TYPE } from './transcript.ts';
import { bindingMissing, createWorkerPool } from './worker-pool.ts';

export interface WhisperRuntimeOptions {
  config: WhisperConfig;
  models: Models;
  /** Where the parts of a split recording go, so that other nodes can fetch them. */
  store: Pick<Store, 'addBytes'>;
  /** The models other nodes of the mesh announce: a missing model comes from them first. */
  meshModels?: () => ModelInfo[];
  logger?: Logger;
  /** How long a new worker process may take to say it is ready. Default 10000 ms. */
  startTimeoutMs?: number;
}

export function createWhisperRuntime(opts: WhisperRuntimeOptions): EngineRuntime {
  const log = (opts.logger ?? silentLogger).child({ component: 'whisper-runtime' });
  const { config } = opts;
  const pool = createWorkerPool({ log, startTimeoutMs: opts.startTimeoutMs ?? 10_000 });
  let nextId = 1;

  const model = async (p: WhisperParams, req: RunRequest): Promise<ModelFile> => {
    const expected = config.models[p.model]?.sha256;
    const peer = opts.meshModels?.().find((m) => m.name === p.model && m.sha256 === expected);
    return opts.models.ensure(p.model, {
      cid: peer?.cid,
      signal: req.signal,
      onProgress: (x) => {
        log.info('fetching model', { model: p.model, ...x });
        req.onStatus?.(fetchingText(p.model, x));
      },
    });
  };

  const answer = async (a: WorkerAnswer, p: WhisperParams, m: ModelFile, started: number) => {
    const wallMs = performance.now() - started;
    if (a.type === 'split') {
      const parts = [];
      for (const [i, part] of a.parts.entries()) {
        const cid = await opts.store.addBytes(part.wav);
        parts.push({
          input: cid.toString(),
          params: partParams({}, i + 1, a.parts.length, part.startMs),
        });
      }
      const summary = {
        type: 'meshbot.split',
        of: TRANSCRIPT_TYPE,
        parts: parts.length,
        durationMs: a.durationMs,
      };
      const output = new TextEncoder().encode(JSON.stringify(summary));
      const seconds = Math.round(a.durationMs / 1000);
      const logs = [
        `split ${a.format} of ${seconds} s into ${parts.length} parts, cpu ${Math.round(a.cpuMs)} ms`,
      ];
      return {
        output,
        logs,
        wallMs,
        cpuMs: a.cpuMs,
        split: { parts, join: 'transcript' as const },
      };
    }
    const transcript = {
      type: TRANSCRIPT_TYPE,
      text: transcriptText(a.segments),
      language: a.language,
      durationMs: a.durationMs,
      model: { name: m.name, sha256: m.sha256 },
      segments: a.segments,
      ...(p.part ? { offsetMs: p.part.offsetMs } : {}),
    } as const;
    const ms = (x: number) => Math.round(x);
    const logs = [
      `decoded ${a.format} in ${ms(a.decodeMs)} ms, transcribed in ${ms(a.transcribeMs)} ms, cpu ${ms(a.cpuMs)} ms`,
    ];
    return { output: encodeTranscript(transcript), logs, wallMs, cpuMs: a.cpuMs };
  };

  return {
    kind: 'whisper',
    async start() {
      if (!config.enabled)
        throw new EngineRefusedError('whisper', 'whisper is disabled in the config');
      const missing = bindingMissing();
      if (missing) throw new EngineRefusedError('whisper', missing);
      await pool.start();
    },
    stop: () => pool.stop(),
    async run(req: RunRequest): Promise<RunResult> {
      const started = performance.now();
      const p = parseWhisperParams(req.params, config.defaultModel);
      const m = await model(p, req);
      const limits = { ...req.engine.manifest.limits, ...req.limits };
      const split = p.part
        ? undefined
        : {
            aboveSeconds: config.splitAboveSeconds,
            chunkSeconds: config.chunkSeconds,
            maxParts: MAX_SPLIT_PARTS,
          };
      const msg = {
        type: 'run' as const,
        id: nextId++,
        audio: req.input,
        modelPath: m.path,
        language: p.language,
        threads: config.threads,
        temperatureInc: config.temperatureInc,
        maxSeconds: config.maxAudioSeconds,
        split,
      };
      const signal = req.signal ?? new AbortController().signal;
      const a = await pool.run((child) =>
        dispatch(child, { msg, wallMs: limits.wallMs, signal, onProgress: req.onProgress }),
      );
      return answer(a, p, m, started);
    },
  };
}

/** A model download as a person reads it. */
function fetchingText(model: string, x: ModelProgress): string {
  const from = x.source === 'mesh' ? 'from another node' : 'from its public source';
  const mb = (n: number) => `${Math.round(n / 1e6)} MB`;
  const done = x.total
    ? `${Math.floor((100 * x.bytes) / x.total)}% of ${mb(x.total)}`
    : mb(x.bytes);
  return `fetching the whisper model ${model} ${from}: ${done}`;
}
