/**
 * A container's stderr as log lines: Docker frames what the engine wrote as it wrote it, so
 * a frame may end inside a line, or inside a UTF-8 character.
 */
import { describe, expect, it } from 'vitest';
import { LogLines } from '../../../src/engines/docker/streams.ts';

async function logOf(...chunks: Buffer[]): Promise<string[]> {
  const log = new LogLines();
  for (const chunk of chunks) {
    await new Promise<void>((resolve) => log.write(chunk, () => resolve()));
  }
  return log.lines();
}

describe('docker log lines', () => {
  it('joins a line written in several frames', async () => {
    const lines = await logOf(Buffer.from('first li'), Buffer.from('ne\nsecond'));
    expect(lines).toEqual(['first line', 'second']);
  });

  it('keeps a character whose bytes arrive in two frames', async () => {
    const bytes = Buffer.from('naïve — 日本\n🦊 done', 'utf8');
    const cut = bytes.indexOf(0xe6) + 1; // inside 日
    expect(await logOf(bytes.subarray(0, cut), bytes.subarray(cut))).toEqual([
      'naïve — 日本',
      '🦊 done',
    ]);
    // One byte a frame: every multi-byte character is split.
    const bytewise = [...bytes].map((b) => Buffer.from([b]));
    expect(await logOf(...bytewise)).toEqual(['naïve — 日本', '🦊 done']);
  });

  it('ends a log cut inside a character with a replacement character', async () => {
    const fox = Buffer.from('🦊', 'utf8');
    expect(await logOf(Buffer.from('a fox: '), fox.subarray(0, 2))).toEqual(['a fox: \uFFFD']);
  });
});
