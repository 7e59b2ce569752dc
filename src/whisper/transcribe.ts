/** One whisper.cpp run over 16 kHz mono PCM, through smart-whisper (in the worker process). */
import { type TranscribeResult, TranscribeTask } from 'smart-whisper';
import type { Pcm } from '../audio/types.ts';
import type { LoadedModel } from './model-cache.ts';
import { whisperLanguage } from './model-header.ts';
import type { WireSegment } from './protocol.ts';

export interface TranscribeOptions {
  language: string;
  threads: number;
  temperatureInc: number;
  /** Called as each segment is decoded, with its end time: the run's progress. */
  onSegment?: (endMs: number) => void;
}

/** whisper.cpp skips input under one second; short voice messages get silence after them. */
const MIN_SAMPLES_S = 1.2;

function padded(pcm: Pcm): Float32Array {
  const min = Math.ceil(pcm.sampleRate * MIN_SAMPLES_S);
  if (pcm.samples.length >= min) return pcm.samples;
  const out = new Float32Array(min);
  out.set(pcm.samples);
  return out;
}

export async function transcribe(
  loaded: LoadedModel,
  pcm: Pcm,
  opts: TranscribeOptions,
): Promise<{ language: string; segments: WireSegment[] }> {
  const language = whisperLanguage(opts.language, loaded.multilingual);
  const task = await TranscribeTask.run(loaded.model, padded(pcm), {
    language,
    n_threads: opts.threads,
    temperature: 0,
    temperature_inc: opts.temperatureInc,
    translate: false,
    print_progress: false,
    print_realtime: false,
    print_timestamps: false,
    print_special: false,
    format: 'detail',
  });
  task.on('transcribed', (r: TranscribeResult<'detail', false>) => opts.onSegment?.(r.to));
  const results = (await task.result) as TranscribeResult<'detail', false>[];
  const segments = results.map((r) => ({ startMs: r.from, endMs: r.to, text: r.text.trim() }));
  const detected = results.find((r) => r.lang)?.lang ?? language;
  return { language: detected, segments: segments.filter((s) => s.text.length > 0) };
}
