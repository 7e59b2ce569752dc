/**
 * Named pipelines: `engines/<name>/pipeline.json` beside the engine packages. `!run <name>`
 * starts one like an engine; each is checked when the node starts, so a bad one stops it.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors/index.ts';
import { checkPipeline, type Pipeline, parsePipeline } from './pipeline.ts';

export async function loadPipelines(enginesDir: string): Promise<Map<string, Pipeline>> {
  const out = new Map<string, Pipeline>();
  const entries = await readdir(enginesDir, { withFileTypes: true });
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory()) continue;
    const path = join(enginesDir, entry.name, 'pipeline.json');
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      continue;
    }
    try {
      const p = parsePipeline(JSON.parse(text));
      if (!p.start) throw new Error('a named pipeline needs "start": the engine of its first task');
      checkPipeline(p);
      out.set(entry.name, p);
    } catch (err) {
      throw new ConfigError(`${path}: ${(err as Error).message}`, { cause: err });
    }
  }
  return out;
}
