/**
 * Generates a Whisper model file from the shell, for benchmarks and manual runs:
 *
 *   node test/support/whisper-model/cli.ts scripted --phrase "hello mesh" --out FILE
 *        [--d-model 64] [--layers 1] [--multilingual]
 *   node test/support/whisper-model/cli.ts random --size base --out FILE [--seed 1] [--multilingual]
 *
 * Prints the path, sha256 and size of the file written.
 */
import { parseArgs } from 'node:util';
import type { ModelFile } from './models.ts';
import { makeRandomModel, makeScriptedModel, WHISPER_SIZES } from './models.ts';

const USAGE = `usage:
  cli.ts scripted --phrase TEXT --out FILE [--d-model 64] [--layers 1] [--multilingual]
  cli.ts random --size tiny|base --out FILE [--seed 1] [--multilingual]`;

const int = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new Error(`--${name} must be an integer, got ${value}`);
  return n;
};

async function main(argv: string[]): Promise<ModelFile> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      phrase: { type: 'string' },
      out: { type: 'string' },
      'd-model': { type: 'string' },
      layers: { type: 'string' },
      size: { type: 'string' },
      seed: { type: 'string' },
      multilingual: { type: 'boolean', default: false },
    },
  });
  const [kind] = positionals;
  const path = values.out;
  if (!path) throw new Error('--out is required');
  if (kind === 'scripted') {
    if (values.phrase === undefined) throw new Error('--phrase is required');
    return makeScriptedModel({
      path,
      phrase: values.phrase,
      dModel: int('d-model', values['d-model']),
      layers: int('layers', values.layers),
      multilingual: values.multilingual,
    });
  }
  if (kind === 'random') {
    const size = values.size ?? '';
    if (!(size in WHISPER_SIZES)) throw new Error(`--size must be tiny or base, got '${size}'`);
    return makeRandomModel({
      path,
      size: size as keyof typeof WHISPER_SIZES,
      seed: int('seed', values.seed),
      multilingual: values.multilingual,
    });
  }
  throw new Error(`unknown model kind '${kind ?? ''}'`);
}

try {
  const file = await main(process.argv.slice(2));
  console.log(
    `${file.path}\nsha256 ${file.sha256}\n${file.bytes} bytes (${(file.bytes / 1e6).toFixed(1)} MB)`,
  );
} catch (err) {
  console.error(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  process.exitCode = 1;
}
