/**
 * `npm run bench -- verify`: what the Verifier costs, measured through 3 bots on a real
 * Synapse. Every run reports its CPU time (measured in its sandbox) in its completion event
 * (the engine is CPU-bound: fibsum-map of a large index), and each assignment carries its
 * task, so a replica is told from the run it checks. Figures:
 * - verification CPU / useful CPU with adaptive replication once every node is trusted
 *   (spot checks at q = 0.1), next to full 2-way replication (`replicas=2` on every task) in
 *   the same mesh and run; the goal is ≤ 15%;
 * - the same during warm-up (every result of a node in warm-up is checked).
 * Sizes: MESHBOT_BENCH_VERIFY_TASKS (120), MESHBOT_BENCH_VERIFY_INDEX (15000).
 */
import { appendFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as dagJson from '@ipld/dag-json';
import { type DevMesh, startDevMesh } from '../src/dev/dev-mesh.ts';
import type { Message } from '../src/dev/person.ts';
import { createHomeserver } from '../src/homeserver/index.ts';
import { createLogger } from '../src/log/logger.ts';
import { type Benchmark, figure } from './harness.ts';

const TASKS = Number(process.env.MESHBOT_BENCH_VERIFY_TASKS ?? 120);
const INDEX = Number(process.env.MESHBOT_BENCH_VERIFY_INDEX ?? 15_000);
const WARMUP = 5;
const WINDOW = 6;
const REPLY_MS = 120_000;
const note = (what: string) => console.error(`[verify] ${new Date().toISOString()} ${what}`);

interface Tally {
  useful: number;
  verification: number;
  tasks: number;
}

/** Sums the runs' CPU time from completions, split by whether the run was a replica. */
function tally(events: Message[]): Tally {
  const replica = new Map<string, boolean>();
  for (const m of events) {
    if (m.type !== 'org.meshbot.assign') continue;
    const list = (m.content as { assignments?: { task: string; block: string }[] }).assignments;
    for (const a of list ?? []) {
      const task = dagJson.decode(Buffer.from(a.block, 'base64')) as { replica?: unknown };
      replica.set(a.task, task.replica !== undefined);
    }
  }
  const t: Tally = { useful: 0, verification: 0, tasks: 0 };
  for (const m of events) {
    if (m.type !== 'org.meshbot.complete') continue;
    const list = (m.content as { completions?: { task: string; ok: boolean; cpuMs?: number }[] })
      .completions;
    for (const c of list ?? []) {
      if (!c.ok) continue;
      if (replica.get(c.task)) t.verification += c.cpuMs ?? 0;
      else {
        t.useful += c.cpuMs ?? 0;
        t.tasks++;
      }
    }
  }
  return t;
}

/** Runs `n` tasks, `WINDOW` at a time, each answered before the next window. */
async function load(mesh: DevMesh, n: number, body: (i: number) => string): Promise<void> {
  const bots = new Set(mesh.bots.map((b) => b.userId as string));
  for (let from = 0; from < n; from += WINDOW) {
    const asks = [];
    for (let i = from; i < Math.min(n, from + WINDOW); i++) {
      asks.push(
        mesh.person
          .send(mesh.roomId, body(i))
          .then((id) => mesh.person.waitForReply(id, REPLY_MS, bots)),
      );
    }
    for (const reply of await Promise.all(asks)) {
      if (/ failed: /.test(reply.body)) throw new Error(`a task failed: ${reply.body}`);
    }
  }
}

async function allTrusted(mesh: DevMesh): Promise<boolean> {
  const id = await mesh.person.send(mesh.roomId, '!trust');
  const reply = await mesh.person.waitForReply(id, REPLY_MS);
  return (reply.body.match(/trusted \(spot-checked\)/g) ?? []).length >= mesh.bots.length;
}

export const verifyBenchmark: Benchmark = {
  name: 'verify',
  description:
    'CPU spent on verification / useful CPU: adaptive replication after warm-up vs full 2-way replication (3 bots)',
  async run() {
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-bench-verify-'));
    const logFile = join(dir, 'bots.log');
    const log = createLogger({ level: 'info', write: (l) => appendFileSync(logFile, `${l}\n`) });
    const hs = createHomeserver({ name: `bench-verify-${process.pid}` });
    await hs.start();
    const mesh = await startDevMesh({
      dir,
      bots: 3,
      log,
      homeserver: hs,
      prefix: 'bench-verify-',
      botConfig: { verifier: { enabled: true, warmup: WARMUP, spotCheckRate: 0.1 } },
    });
    try {
      const input = join(dir, 'index.json');
      await writeFile(input, JSON.stringify(INDEX));
      const cid = await mesh.add(input);
      const run =
        (tag: string, extra = '') =>
        (i: number) =>
          `!run fibsum-map ${cid} ${tag}=${i}${extra}`;
      const seen = mesh.person.seen;
      let from = seen.length;
      let warm = 0;
      while (!(await allTrusted(mesh)) && warm < 300) {
        await load(mesh, WINDOW * 2, run(`warm${warm}`));
        warm += WINDOW * 2;
      }
      const warmup = tally(seen.slice(from));
      note(`warm-up: ${warm} tasks until every node was trusted`);
      from = seen.length;
      await load(mesh, TASKS, run('adaptive'));
      const adaptive = tally(seen.slice(from));
      from = seen.length;
      await load(mesh, TASKS, run('full', ' replicas=2'));
      const full = tally(seen.slice(from));
      note(`adaptive ${JSON.stringify(adaptive)}; full ${JSON.stringify(full)}`);
      const ratio = (t: Tally) => t.verification / t.useful;
      return [
        figure(
          `verification CPU / useful CPU after warm-up (q = 0.1, ${adaptive.tasks} tasks) vs full 2-way replication`,
          'x',
          ratio(adaptive),
          ratio(full),
        ),
        figure('the same vs the 15% goal', 'x', ratio(adaptive), 0.15),
        figure(
          `during warm-up (${warmup.tasks} tasks, until every node was trusted) vs full 2-way`,
          'x',
          ratio(warmup),
          ratio(full),
        ),
      ];
    } finally {
      await mesh.stop();
      await hs.stop();
    }
  },
};
