/** The benchmark harness: figures next to baselines measured in the same run. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface Figure {
  name: string;
  unit: string;
  value: number;
  baseline: number;
  /** value / baseline. */
  ratio: number;
}

export interface Benchmark {
  name: string;
  description: string;
  run(): Promise<Figure[]>;
}

export function figure(name: string, unit: string, value: number, baseline: number): Figure {
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return {
    name,
    unit,
    value: round(value),
    baseline: round(baseline),
    ratio: round(value / baseline),
  };
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? Number.NaN;
}

export async function writeResults(dir: string, bench: string, figures: Figure[]): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${bench}.json`);
  await writeFile(file, `${JSON.stringify(figures, null, 2)}\n`);
  return file;
}

export function table(figures: Figure[]): string {
  const rows = [['figure', 'value', 'baseline', 'ratio', 'unit']];
  for (const f of figures)
    rows.push([f.name, String(f.value), String(f.baseline), `${f.ratio}×`, f.unit]);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')).join('\n');
}
