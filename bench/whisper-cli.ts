/**
 * The baseline of the whisper benchmark: whisper.cpp's own command-line program, compiled from
 * the very sources smart-whisper ships, with -O3 -march=native (the fastest plain build this
 * machine has: the same code, no Node, no mesh). Built once into the cache folder.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SRC = fileURLToPath(new URL('../node_modules/smart-whisper/whisper.cpp', import.meta.url));
const FLAGS = ['-O3', '-march=native', '-mtune=native', '-DNDEBUG', '-D_GNU_SOURCE'];
const INCLUDES = ['include', 'ggml/include', 'examples', 'src', 'ggml/src'].map(
  (d) => `-I${join(SRC, d)}`,
);
const C_SOURCES = [
  'ggml.c',
  'ggml-alloc.c',
  'ggml-backend.c',
  'ggml-quants.c',
  'ggml-aarch64.c',
].map((f) => join(SRC, 'ggml/src', f));
const CXX_SOURCES = [
  'src/whisper.cpp',
  'examples/common.cpp',
  'examples/common-ggml.cpp',
  'examples/grammar-parser.cpp',
  'examples/main/main.cpp',
].map((f) => join(SRC, f));

/** The path of the built program (built on first use: about 1.5 min on 2 cores). */
export async function whisperCli(): Promise<string> {
  const cache = join(
    process.env.MESHBOT_CACHE ?? join(homedir(), '.cache', 'meshbot'),
    'whisper-cli',
  );
  const bin = join(cache, 'whisper-cli');
  if (existsSync(bin)) return bin;
  await mkdir(cache, { recursive: true });
  const objects: string[] = [];
  const compile = async (cc: string, std: string, file: string) => {
    const out = join(cache, `${file.split('/').pop()}.o`);
    await run(cc, [...FLAGS, std, ...INCLUDES, '-c', file, '-o', out], { maxBuffer: 1 << 24 });
    objects.push(out);
  };
  for (const f of C_SOURCES) await compile('gcc', '-std=c11', f);
  for (const f of CXX_SOURCES) await compile('g++', '-std=c++11', f);
  await run('g++', [...objects, '-o', bin, '-lpthread']);
  return bin;
}

/** Wall time of one transcription of a 16 kHz WAV by the CLI, ms. */
export async function cliTranscribe(
  bin: string,
  model: string,
  wav: string,
  threads: number,
): Promise<number> {
  const started = performance.now();
  await run(bin, ['-m', model, '-f', wav, '-t', String(threads), '-l', 'en', '-tpi', '0', '-np'], {
    maxBuffer: 1 << 26,
  });
  return performance.now() - started;
}
