/**
 * `npm run bench [-- NAME ...]`: runs the named benchmarks (all by default), prints a table
 * each and writes bench/results/NAME.json.
 */
import { fileURLToPath } from 'node:url';
import { enginesBenchmark } from './engines.ts';
import { failoverBenchmark } from './failover.ts';
import { gohoBenchmark } from './goho.ts';
import { type Benchmark, table, writeResults } from './harness.ts';
import { memoryBenchmark } from './memory.ts';
import { meshBenchmark } from './mesh.ts';
import { runBenchmark } from './run-reply.ts';
import { verifyBenchmark } from './verify.ts';
import { whisperBenchmark } from './whisper.ts';

const BENCHMARKS: Benchmark[] = [
  runBenchmark,
  gohoBenchmark,
  enginesBenchmark,
  meshBenchmark,
  memoryBenchmark,
  failoverBenchmark,
  whisperBenchmark,
  verifyBenchmark,
];
const RESULTS = fileURLToPath(new URL('./results', import.meta.url));

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !BENCHMARKS.some((b) => b.name === w));
if (unknown.length > 0) {
  console.error(
    `unknown benchmark: ${unknown.join(', ')}; known: ${BENCHMARKS.map((b) => b.name).join(', ')}`,
  );
  process.exit(2);
}
for (const bench of BENCHMARKS.filter((b) => wanted.length === 0 || wanted.includes(b.name))) {
  console.log(`\n== ${bench.name}: ${bench.description}`);
  const figures = await bench.run();
  console.log(table(figures));
  console.log(`written: ${await writeResults(RESULTS, bench.name, figures)}`);
}
process.exit(0);
