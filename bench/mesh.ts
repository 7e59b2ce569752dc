/**
 * `npm run bench -- mesh`: the mesh with 3 bots and a no-op engine, each figure next to a
 * baseline measured in the same run on the same homeserver:
 * - tasks per second, next to an echo bot's round trips per second (same window in flight);
 * - per-task overhead (p50, p95) of `!run noop` → reply, next to running the engine locally;
 * - against Synapse's default rate limits: tasks per second next to the rate-limit bound
 *   (how fast the person may post `!run` at all), and how many were lost or answered twice.
 */
import { appendFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILTIN_ENGINES_DIR } from '../src/config/schema.ts';
import { type DevMesh, startDevMesh } from '../src/dev/dev-mesh.ts';
import { createIvmRuntime } from '../src/engines/ivm/index.ts';
import { loadEngines } from '../src/engines/manifest.ts';
import { createHomeserver, type Homeserver } from '../src/homeserver/index.ts';
import { createLogger, silentLogger } from '../src/log/logger.ts';
import { createBotSdkClient } from '../src/matrix/bot-sdk-client.ts';
import type { MeshClient } from '../src/matrix/types.ts';
import { type Benchmark, type Figure, figure, percentile } from './harness.ts';

const TASKS = Number(process.env.MESHBOT_BENCH_TASKS ?? 150);
const WINDOW = Number(process.env.MESHBOT_BENCH_WINDOW ?? 20);
const SLICES = Number(process.env.MESHBOT_BENCH_SLICES ?? 3);
const ROUNDS = Number(process.env.MESHBOT_BENCH_ROUNDS ?? 30);
const LIMITED_TASKS = Number(process.env.MESHBOT_BENCH_LIMITED_TASKS ?? 40);
const REPLY_MS = 120_000;
const note = (what: string) => console.error(`[mesh] ${new Date().toISOString()} ${what}`);

export const meshBenchmark: Benchmark = {
  name: 'mesh',
  description: 'tasks/s and per-task overhead through 3 bots (noop engine), open and rate-limited',
  async run() {
    const parts = (process.env.MESHBOT_BENCH_MESH_PARTS ?? 'open,limited').split(',');
    return [
      ...(parts.includes('open') ? await open() : []),
      ...(parts.includes('limited') ? await limited() : []),
    ];
  },
};

interface Setup {
  hs: Homeserver;
  mesh: DevMesh;
  echo: MeshClient;
  cid: string;
  stop(): Promise<void>;
}

async function setUp(name: string, rateLimits: 'test' | 'default'): Promise<Setup> {
  const dir = await mkdtemp(join(tmpdir(), `meshbot-bench-${name}-`));
  const hs = createHomeserver({ name: `bench-${name}-${process.pid}`, rateLimits });
  await hs.start();
  // The bots' log goes to a file next to their data, for a look after a surprising figure.
  const logFile = join(dir, 'bots.log');
  const log = createLogger({ level: 'info', write: (l) => appendFileSync(logFile, `${l}\n`) });
  note(`${name}: bots log to ${logFile}`);
  // Against a rate-limited server, GOHO heads are announced in 15 s windows (the HPCP knob
  // for such servers); everything else keeps its defaults.
  const botConfig = rateLimits === 'default' ? { lattice: { announceDelayMs: 15_000 } } : {};
  const mesh = await startDevMesh({
    dir,
    bots: 3,
    log,
    homeserver: hs,
    prefix: `${name}-`,
    botConfig,
  });
  const echoUser = await hs.registerUser(`${name}-echo`, `${name}-echo-password`);
  const echo = await createBotSdkClient({
    homeserverUrl: hs.url,
    accessToken: echoUser.accessToken,
    storageFile: join(dir, 'echo', 'sync.json'),
    logger: silentLogger,
  });
  echo.onTimeline(async (room, ev) => {
    const body = ev.content.body;
    if (ev.sender === mesh.person.userId && typeof body === 'string' && body.startsWith('echo ')) {
      await echo.reply(room, ev, body);
    }
  });
  await echo.start();
  await mesh.person.client.invite(mesh.roomId, echo.userId);
  await echo.join(mesh.roomId as never);
  const input = join(dir, 'input.txt');
  await writeFile(input, 'x');
  // Every bot holds the input, as each would after the first run: fetching is not measured.
  let cid = '';
  for (let i = 0; i < mesh.bots.length; i++) cid = await mesh.add(input, i);
  return {
    hs,
    mesh,
    echo,
    cid,
    async stop() {
      await echo.stop();
      await mesh.stop();
      await hs.stop();
    },
  };
}

/** Sends `body(i)` for i < n, at most `window` unanswered at once; returns elapsed ms. */
async function load(s: Setup, n: number, window: number, body: (i: number) => string) {
  const started = performance.now();
  let next = 0;
  const lane = async () => {
    while (next < n) {
      const i = next++;
      const id = await s.mesh.person.send(s.mesh.roomId, body(i));
      await s.mesh.person.waitForReply(id, REPLY_MS);
    }
  };
  await Promise.all(Array.from({ length: window }, lane));
  return performance.now() - started;
}

async function roundTrip(s: Setup, body: string): Promise<number> {
  const started = performance.now();
  await load(s, 1, 1, () => body);
  return performance.now() - started;
}

/** Without rate limits: throughput next to echo round trips, latency next to a local run. */
async function open(): Promise<Figure[]> {
  const s = await setUp('mesh', 'test');
  try {
    for (let i = 0; i < 3; i++) {
      await roundTrip(s, `echo warm-up ${i}`);
      await roundTrip(s, `!run noop ${s.cid} warmup=${i}`);
    }
    note('warmed up');
    // Echo and mesh take turns, a slice at a time: on a shared machine, a burst of load
    // elsewhere then lands on both sides of the ratio instead of on one.
    const seen = s.mesh.person.seen;
    let echoMs = 0;
    let meshMs = 0;
    let echoEvents = 0;
    const meshEvents: typeof seen = [];
    const slice = Math.ceil(TASKS / SLICES);
    for (let from = 0; from < TASKS; from += slice) {
      const n = Math.min(slice, TASKS - from);
      const echoFrom = seen.length;
      echoMs += await load(s, n, WINDOW, (i) => `echo load ${from + i}`);
      echoEvents += seen.length - echoFrom;
      const meshFrom = seen.length;
      meshMs += await load(s, n, WINDOW, (i) => `!run noop ${s.cid} load=${from + i}`);
      await new Promise((r) => setTimeout(r, 2_000)); // the last reactions and acks
      meshEvents.push(...seen.slice(meshFrom));
    }
    note(`echo: ${TASKS} in ${Math.round(echoMs)} ms; mesh: ${TASKS} in ${Math.round(meshMs)} ms`);
    note(`mesh room events by type: ${JSON.stringify(countBy(meshEvents, (m) => m.type))}`);
    const runs: number[] = [];
    for (let i = 0; i < ROUNDS; i++) runs.push(await roundTrip(s, `!run noop ${s.cid} round=${i}`));
    const local = await localRuns(ROUNDS);
    return [
      figure(
        `mesh tasks/s (noop, 3 bots, ${WINDOW} in flight) vs echo round trips/s`,
        '1/s',
        (TASKS * 1000) / meshMs,
        (TASKS * 1000) / echoMs,
      ),
      figure(
        'room events per task (mesh) vs per echo round trip',
        'events',
        meshEvents.length / TASKS,
        echoEvents / TASKS,
      ),
      figure(
        'per-task p50: !run noop → reply vs local engine run',
        'ms',
        percentile(runs, 50),
        percentile(local, 50),
      ),
      figure(
        'per-task p95: !run noop → reply vs local engine run',
        'ms',
        percentile(runs, 95),
        percentile(local, 95),
      ),
    ];
  } finally {
    await s.stop();
  }
}

function countBy<T>(xs: T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}

/** The noop engine run in isolated-vm in this process, as a node runs it. */
async function localRuns(n: number): Promise<number[]> {
  const engines = await loadEngines(BUILTIN_ENGINES_DIR);
  const engine = engines.get('noop');
  if (!engine) throw new Error('the noop engine is missing');
  const runtime = createIvmRuntime({ logger: silentLogger });
  await runtime.start();
  try {
    const input = new TextEncoder().encode('x');
    await runtime.run({ engine, input, params: {} });
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const started = performance.now();
      await runtime.run({ engine, input, params: { i: String(i) } });
      out.push(performance.now() - started);
    }
    return out;
  } finally {
    await runtime.stop();
  }
}

/**
 * Against Synapse's default limits (about 0.2 messages/s per account after a burst): the
 * person posts `!run` as fast as the server lets them; the bound is that posting rate.
 */
async function limited(): Promise<Figure[]> {
  const s = await setUp('limited', 'default');
  try {
    const { person, roomId } = s.mesh;
    const requests: string[] = [];
    const started = performance.now();
    for (let i = 0; i < LIMITED_TASKS; i++) {
      requests.push(await sendRetrying(s, `!run noop ${s.cid} limited=${i}`));
    }
    const postedMs = performance.now() - started;
    note(`rate-limited: ${LIMITED_TASKS} posted in ${Math.round(postedMs)} ms`);
    const bots = new Set(s.mesh.bots.map((b) => b.userId as string));
    const answered = (id: string) =>
      person.seen.filter(
        (m) => m.type === 'm.room.message' && bots.has(m.sender) && m.inReplyTo === id,
      );
    for (const id of requests) await person.waitFor((m) => answered(id).includes(m), 600_000);
    const doneMs = performance.now() - started;
    note(`rate-limited: all answered after ${Math.round(doneMs)} ms`);
    await new Promise((r) => setTimeout(r, 10_000));
    const lost = requests.filter((id) => answered(id).length === 0).length;
    const twice = requests.filter((id) => answered(id).length > 1).length;
    void roomId;
    const bound = (LIMITED_TASKS * 1000) / postedMs;
    return [
      figure(
        'rate-limited mesh tasks/s vs the posting bound',
        '1/s',
        (LIMITED_TASKS * 1000) / doneMs,
        bound,
      ),
      figure(
        'rate-limited: requests lost + answered twice (of all)',
        'count',
        lost + twice,
        LIMITED_TASKS,
      ),
    ];
  } finally {
    await s.stop();
  }
}

/** The person's post, retried after the server's `retry_after_ms` while rate limited. */
async function sendRetrying(s: Setup, body: string): Promise<string> {
  for (;;) {
    try {
      return await s.mesh.person.send(s.mesh.roomId, body);
    } catch (err) {
      const e = err as {
        errcode?: string;
        data?: { retry_after_ms?: number };
        httpStatus?: number;
      };
      if (e.errcode !== 'M_LIMIT_EXCEEDED' && e.httpStatus !== 429) throw err;
      await new Promise((r) => setTimeout(r, e.data?.retry_after_ms ?? 1000));
    }
  }
}
