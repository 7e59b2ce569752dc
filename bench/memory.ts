/**
 * `npm run bench -- memory`: what a node keeps as it works. Three bots run in this process on
 * a test homeserver; after a warm-up of `MESHBOT_BENCH_MEMORY_WARMUP` tasks and again after
 * `MESHBOT_BENCH_MEMORY_TASKS` more, a full collection, then the heap and resident memory.
 * Each figure is the reading after the load next to the one after the warm-up: a node that
 * keeps nothing per task stays near 1×. The warm-up is long enough for each GOHO's cache of
 * trie nodes (lattice/trie-node.ts) to fill. The test person's own record of the room (its
 * list and its client's timeline) is emptied before each reading: it is the bench's, not a
 * node's.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startDevMesh } from '../src/dev/dev-mesh.ts';
import { createHomeserver } from '../src/homeserver/index.ts';
import { silentLogger } from '../src/log/logger.ts';
import { type Benchmark, figure } from './harness.ts';

const WARMUP = Number(process.env.MESHBOT_BENCH_MEMORY_WARMUP ?? 300);
const TASKS = Number(process.env.MESHBOT_BENCH_MEMORY_TASKS ?? 400);
const WINDOW = 10;
const REPLY_MS = 120_000;
const MiB = 1024 * 1024;

/** A full collection, without starting the bench with --expose-gc. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

interface Reading {
  heapMiB: number;
  rssMiB: number;
}

export const memoryBenchmark: Benchmark = {
  name: 'memory',
  description: `heap and resident memory of 3 bots after ${TASKS} more tasks, next to after a warm-up`,
  async run() {
    const gc = collector();
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-bench-memory-'));
    const hs = createHomeserver({ name: `bench-memory-${process.pid}`, rateLimits: 'test' });
    await hs.start();
    const mesh = await startDevMesh({ dir, bots: 3, log: silentLogger, homeserver: hs });
    try {
      const input = join(dir, 'input.txt');
      await writeFile(input, 'x');
      let cid = '';
      for (let i = 0; i < mesh.bots.length; i++) cid = await mesh.add(input, i);
      let sent = 0;
      const load = async (n: number) => {
        const until = sent + n;
        const lane = async () => {
          while (sent < until) {
            const i = sent++;
            const id = await mesh.person.send(mesh.roomId, `!run noop ${cid} n=${i}`);
            await mesh.person.waitForReply(id, REPLY_MS);
          }
        };
        await Promise.all(Array.from({ length: WINDOW }, lane));
      };
      const read = async (): Promise<Reading> => {
        // The last reactions, acks and head announcements of the load land first.
        await new Promise((r) => setTimeout(r, 3_000));
        mesh.person.seen.length = 0;
        for (const room of mesh.person.client.getRooms()) room.resetLiveTimeline();
        for (let i = 0; i < 3; i++) gc();
        const m = process.memoryUsage();
        return { heapMiB: m.heapUsed / MiB, rssMiB: m.rss / MiB };
      };
      await load(WARMUP);
      const before = await read();
      await load(TASKS);
      const after = await read();
      const perTaskKiB = ((after.heapMiB - before.heapMiB) * 1024) / TASKS;
      console.error(`[memory] heap kept per task: ${perTaskKiB.toFixed(2)} KiB (3 bots)`);
      return [
        figure(
          `heap after ${WARMUP + TASKS} tasks vs after ${WARMUP} (3 bots, after a full GC)`,
          'MiB',
          after.heapMiB,
          before.heapMiB,
        ),
        figure(
          `resident memory after ${WARMUP + TASKS} tasks vs after ${WARMUP}`,
          'MiB',
          after.rssMiB,
          before.rssMiB,
        ),
      ];
    } finally {
      await mesh.stop();
      await hs.stop();
    }
  },
};
