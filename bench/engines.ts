/**
 * Per-task cost of each engine runtime next to running the same code directly, in the same
 * run, interleaved so that both see the same load:
 * - isolated-vm: the repo's `noop` engine and a 10 ms task of fixed work through the runtime (sandbox
 *   process, warm isolate, a context prepared while the sandbox waited: tasks are 3 ms apart)
 *   vs the same entry script as a plain function in this process, and vs the bare crossing
 *   (bare-sandbox.ts: a forked process that calls the script in a plain isolate, nothing else),
 *   which tells the runtime's own cost from what any sandbox process costs on this machine;
 * - Docker: a no-op and a 10 ms task (`usleep 10000`) through the runtime (input folder,
 *   locked-down container, output folder, removal) vs a plain `docker run --rm` of the same
 *   image and command with the docker CLI, and vs the same command as a host process.
 * The private dockerd (scripts/docker) is started if needed and stopped after.
 */
import { type ChildProcess, execFile, fork, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { runInNewContext } from 'node:vm';
import { createDockerRuntime } from '../src/engines/docker/index.ts';
import { createIvmRuntime } from '../src/engines/ivm/index.ts';
import { createEnginePackage, loadEngines } from '../src/engines/manifest.ts';
import type { EnginePackage, EngineRuntime } from '../src/engines/types.ts';
import { type Benchmark, type Figure, figure, percentile } from './harness.ts';

const IVM_ROUNDS = Number(process.env.MESHBOT_BENCH_IVM_ROUNDS ?? 200);
const DOCKER_ROUNDS = Number(process.env.MESHBOT_BENCH_DOCKER_ROUNDS ?? 20);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TEST_IMAGE = 'meshbot-test/busybox:1';
const run = promisify(execFile);
const median = (xs: number[]) => percentile(xs, 50);
/** Time between two isolated-vm tasks, not measured. */
const GAP_MS = 3;
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function time(fn: () => unknown): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** Median and p95 of a measured series next to its baseline series. */
function pair(name: string, value: number[], baseline: number[]): Figure[] {
  return [
    figure(`${name}, median`, 'ms', median(value), median(baseline)),
    figure(`${name}, p95`, 'ms', percentile(value, 95), percentile(baseline, 95)),
  ];
}

/** The entry script as a plain function in this process: what "the same code directly" is. */
function direct(
  pkg: EnginePackage,
): (input: Uint8Array, params: Record<string, string>) => unknown {
  return new Function('meshbot', `${pkg.code}\nreturn main;`)({
    log() {},
    progress() {},
    textDecode: (b: Uint8Array) => new TextDecoder().decode(b),
    textEncode: (s: string) => new TextEncoder().encode(s),
  });
}

/** A 10 ms task of fixed work (not a clock-bound spin, whose length varies with the clock tick). */
const BURN = createEnginePackage(
  {
    name: 'burn',
    version: '1',
    runtime: 'isolated-vm',
    entry: 'main.js',
    description: 'n rounds of integer arithmetic',
    limits: { cpuMs: 5000, wallMs: 10000 },
  },
  `function main(_input, params) {
    let x = 0;
    const n = Number(params.n);
    for (let i = 0; i < n; i++) x = (x * 31 + i) % 1000003;
    return String(x);
  }`,
);

/** Rounds of BURN that take about `ms` when run directly. */
async function calibrate(ms: number): Promise<string> {
  const fn = direct(BURN);
  let n = 100_000;
  for (let i = 0; i < 8; i++) {
    const times: number[] = [];
    for (let j = 0; j < 9; j++)
      times.push(await time(() => fn(new Uint8Array(), { n: String(n) })));
    n = Math.max(1000, Math.round((n * ms) / median(times)));
  }
  return String(n);
}

/** The entry script in a new node:vm context: a fresh global scope, no process boundary. */
function inFreshRealm(
  pkg: EnginePackage,
): (input: Uint8Array, params: Record<string, string>) => unknown {
  const meshbot = { log() {}, progress() {} };
  return runInNewContext(`${pkg.code}\n;main`, { meshbot });
}

/** The bare crossing: bare-sandbox.ts, forked as the runtime forks its sandbox. */
async function bareSandbox(): Promise<{
  run(pkg: EnginePackage, input: Uint8Array, params: Record<string, string>): Promise<unknown>;
  stop(): void;
}> {
  const child: ChildProcess = fork(join(ROOT, 'bench/bare-sandbox.ts'), [], {
    execArgv: ['--no-node-snapshot', '--disable-warning=ExperimentalWarning'],
    serialization: 'advanced',
  });
  let waiting: { resolve(msg: unknown): void; reject(err: Error): void } | undefined;
  const next = () => new Promise((resolve, reject) => (waiting = { resolve, reject }));
  child.on('message', (msg) => waiting?.resolve(msg));
  child.on('exit', () => waiting?.reject(new Error('the bare sandbox exited')));
  await next();
  return {
    run(pkg, input, params) {
      const answer = next();
      child.send({ code: pkg.code, input, params });
      return answer;
    },
    stop: () => child.disconnect(),
  };
}

/** Tasks per series when they follow each other without a pause. */
const BACK_TO_BACK = 10 * IVM_ROUNDS;

/**
 * No-op tasks one after another, as a stage of many small tasks reaches a node: the mean time
 * per task through the runtime next to the bare crossing. Neither process sleeps between
 * tasks here, so this shows the runtime's own work per task (checks, messages, the realm's
 * check after each task) without the cost of waking a process.
 */
async function backToBack(
  runtime: EngineRuntime,
  bare: Awaited<ReturnType<typeof bareSandbox>>,
  pkg: EnginePackage,
  input: Uint8Array,
): Promise<Figure> {
  const mean = async (step: () => Promise<unknown>) => {
    const started = performance.now();
    for (let i = 0; i < BACK_TO_BACK; i++) await step();
    return (performance.now() - started) / BACK_TO_BACK;
  };
  const viaRuntime: number[] = [];
  const floor: number[] = [];
  // Alternating halves, so that neither series has the machine to itself for longer.
  for (let half = 0; half < 2; half++) {
    viaRuntime.push(await mean(() => runtime.run({ engine: pkg, input, params: {} })));
    floor.push(await mean(() => bare.run(pkg, input, {})));
  }
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return figure(
    'isolated-vm no-op back to back vs the bare crossing, mean per task',
    'ms',
    sum(viaRuntime) / 2,
    sum(floor) / 2,
  );
}

async function ivmFigures(): Promise<Figure[]> {
  const engines = await loadEngines(join(ROOT, 'engines'));
  const noop = engines.get('noop') as EnginePackage;
  const runtime = createIvmRuntime();
  await runtime.start();
  const input = new Uint8Array([120]);
  const bare = await bareSandbox();
  const cases = [
    { task: 'no-op', pkg: noop, params: {} as Record<string, string> },
    { task: '10 ms task', pkg: BURN, params: { n: await calibrate(10) } },
  ];
  const out: Figure[] = [];
  const overhead: number[] = [];
  const viaRuntime = cases.map((): number[] => []);
  try {
    for (const [k, c] of cases.entries()) {
      const fn = direct(c.pkg);
      const plain: number[] = [];
      const floor: number[] = [];
      const measured = viaRuntime[k] as number[];
      for (let i = 0; i < 5; i++) {
        await runtime.run({ engine: c.pkg, input, params: c.params });
        await bare.run(c.pkg, input, c.params);
      }
      const steps: [number[], () => unknown][] = [
        [measured, () => runtime.run({ engine: c.pkg, input, params: c.params })],
        [floor, () => bare.run(c.pkg, input, c.params)],
        [plain, () => fn(input, c.params)],
      ];
      for (let i = 0; i < IVM_ROUNDS; i++) {
        // Tasks reach a node seconds apart; a short pause lets the sandbox get ready as it
        // would. Each of the three gets the same pause, so that none starts on a CPU another
        // just warmed up, and each round starts with the next one, so that none always
        // follows the same other.
        for (let j = 0; j < steps.length; j++) {
          const [series, step] = steps[(i + j) % steps.length] as [number[], () => unknown];
          await pause(GAP_MS);
          series.push(await time(step));
        }
        if (c.pkg === noop) overhead.push((measured.at(-1) as number) - (plain.at(-1) as number));
      }
      out.push(...pair(`isolated-vm ${c.task} vs direct`, measured, plain));
      out.push(
        figure(
          `isolated-vm ${c.task} vs the bare crossing, median`,
          'ms',
          median(measured),
          median(floor),
        ),
        figure(`bare crossing, ${c.task} vs direct, median`, 'ms', median(floor), median(plain)),
      );
    }
    out.push(await backToBack(runtime, bare, noop, input));
  } finally {
    bare.stop();
    await runtime.stop();
  }
  // The same code with a fresh global scope per task, in this process: what the runtime's
  // warm realm saves. Measured last: a new context per round leaves garbage in this
  // process, whose collection would land in the timing of the pairs above.
  for (const [k, c] of cases.entries()) {
    const freshRealm: number[] = [];
    for (let i = 0; i < IVM_ROUNDS; i++) {
      await pause(GAP_MS);
      freshRealm.push(await time(() => inFreshRealm(c.pkg)(input, c.params)));
    }
    const realm = `isolated-vm ${c.task} vs a fresh node:vm context per task, median`;
    out.push(figure(realm, 'ms', median(viaRuntime[k] as number[]), median(freshRealm)));
  }
  // The goal for the set-up cost of one task.
  out.push(
    figure(
      'isolated-vm set-up per task (no-op − direct) vs the 5 ms goal, median',
      'ms',
      median(overhead),
      5,
    ),
  );
  return out;
}

function dockerEnv(): NodeJS.ProcessEnv {
  const cache = process.env.MESHBOT_CACHE || join(process.env.HOME ?? '/root', '.cache', 'meshbot');
  const sock = join(process.env.MESHBOT_DOCKER_DIR || join(cache, 'docker'), 'docker.sock');
  return { ...process.env, DOCKER_HOST: `unix://${sock}` };
}

async function dockerFigures(): Promise<Figure[]> {
  const env = dockerEnv();
  const script = (name: string, ...args: string[]) =>
    spawnSync('bash', [join(ROOT, 'scripts/docker', name), ...args], { env, stdio: 'inherit' })
      .status;
  const wasRunning =
    spawnSync('bash', [join(ROOT, 'scripts/docker/dockerd.sh'), 'status'], { env }).status === 0;
  if (
    script('install.sh') !== 0 ||
    script('dockerd.sh', 'start') !== 0 ||
    script('images.sh') !== 0
  ) {
    console.log('(no Docker engine here: Docker figures skipped)');
    return [];
  }
  const socketPath = (env.DOCKER_HOST as string).slice('unix://'.length);
  const runtime: EngineRuntime & { pin: NonNullable<EngineRuntime['pin']> } = createDockerRuntime({
    socketPath,
  });
  await runtime.start();
  const cases = [
    { name: 'docker no-op', cmd: ['/bin/true'] },
    { name: 'docker 10 ms task', cmd: ['/bin/usleep', '10000'] },
  ];
  const out: Figure[] = [];
  try {
    for (const c of cases) {
      const pkg = await runtime.pin(
        createEnginePackage(
          {
            name: 'bench',
            version: '1',
            runtime: 'docker',
            image: TEST_IMAGE,
            command: c.cmd,
            description: 'bench',
          },
          '',
        ),
      );
      const input = new Uint8Array([120]);
      const viaRuntime: number[] = [];
      const plainRun: number[] = [];
      const host: number[] = [];
      const dockerRun = () =>
        run('docker', ['run', '--rm', '--network', 'none', TEST_IMAGE, ...c.cmd], { env });
      const hostRun = () =>
        run('busybox', [c.cmd[0]?.slice('/bin/'.length) as string, ...c.cmd.slice(1)]);
      for (let i = 0; i < 2; i++)
        await Promise.all([runtime.run({ engine: pkg, input, params: {} })]).then(dockerRun);
      for (let i = 0; i < DOCKER_ROUNDS; i++) {
        viaRuntime.push(await time(() => runtime.run({ engine: pkg, input, params: {} })));
        plainRun.push(await time(dockerRun));
        host.push(await time(hostRun));
      }
      out.push(...pair(`${c.name} vs plain docker run`, viaRuntime, plainRun));
      out.push(
        figure(
          `${c.name} vs the same command on the host, median`,
          'ms',
          median(viaRuntime),
          median(host),
        ),
      );
    }
  } finally {
    await runtime.stop();
    if (!wasRunning) script('dockerd.sh', 'stop');
  }
  return out;
}

export const enginesBenchmark: Benchmark = {
  name: 'engines',
  description:
    'per-task time of each runtime (no-op and 10 ms task) next to the same code run directly, and Docker next to a plain `docker run`',
  async run() {
    return [...(await ivmFigures()), ...(await dockerFigures())];
  },
};
