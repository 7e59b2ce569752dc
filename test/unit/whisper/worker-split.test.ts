/**
 * The whisper worker splits long audio into parts that become tasks. Their number must fit a
 * split plan (MAX_SPLIT_PARTS in production): each cut moves up to 5 s before its boundary to
 * a quiet spot, and parts of duration / maxParts seconds came out more than maxParts.
 */
import { describe, expect, it } from 'vitest';
import { encodeWav } from '../../../src/audio/wav.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { dispatch } from '../../../src/whisper/dispatch.ts';
import { createWorkerPool } from '../../../src/whisper/worker-pool.ts';

describe('the whisper worker splitting a long recording', () => {
  it('makes no more parts than it was allowed', async () => {
    // Ten minutes of a steady tone: every frame ties, so every cut moves 2.5 s early, and
    // 60 s parts (600 s / 10) made 11 of them.
    const rate = 1000;
    const samples = new Float32Array(rate * 600);
    for (let i = 0; i < samples.length; i++) samples[i] = Math.sin(i / 3) * 0.1;
    const pool = createWorkerPool({ log: silentLogger, startTimeoutMs: 20_000 });
    await pool.start();
    try {
      const a = await pool.run((child) =>
        dispatch(child, {
          msg: {
            type: 'run',
            id: 1,
            audio: encodeWav({ sampleRate: rate, samples }),
            modelPath: '/nonexistent/model.bin', // the split path never loads a model
            language: 'en',
            threads: 1,
            temperatureInc: 0,
            maxSeconds: 3600,
            split: { aboveSeconds: 120, chunkSeconds: 30, maxParts: 10 },
          },
          wallMs: 60_000,
          signal: new AbortController().signal,
        }),
      );
      expect(a.type).toBe('split');
      if (a.type !== 'split') return;
      expect(a.parts.length).toBeGreaterThanOrEqual(2);
      expect(a.parts.length).toBeLessThanOrEqual(10);
      expect(a.parts.at(-1)?.endMs).toBeCloseTo(600_000, 0);
    } finally {
      await pool.stop();
    }
  });
});
