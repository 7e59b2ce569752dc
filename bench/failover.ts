/**
 * `npm run bench -- failover`: how long the mesh takes to recover, over 10 runs each, with
 * 3 bots as separate processes and a 3 s lease (assignment and coordinator alike):
 * - worker loss: kill -9 a worker mid-task → its task is assigned to another node;
 * - coordinator loss: kill -9 the coordinator → a new lease with a higher term, and a `!run`
 *   posted at the kill is answered.
 * Baseline: the lease, the least any lease-based failover can take.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createHomeserver } from '../src/homeserver/index.ts';
import { type ProcessMesh, startProcessMesh } from '../test/support/process-mesh.ts';
import { type Benchmark, type Figure, figure, percentile } from './harness.ts';

const RUNS = Number(process.env.MESHBOT_BENCH_FAILOVER_RUNS ?? 10);
const LEASE_MS = 3_000;

export const failoverBenchmark: Benchmark = {
  name: 'failover',
  description: `recovery after kill -9 of a worker / the coordinator (${RUNS} runs each, ${LEASE_MS} ms leases)`,
  async run() {
    const hs = createHomeserver({ name: `bench-failover-${process.pid}` });
    await hs.start();
    const mesh = await startProcessMesh({
      name: 'benchfailover',
      hs: { url: hs.url, secret: hs.registrationSecret },
      botConfig: { mesh: { leaseMs: LEASE_MS, assignmentLeaseMs: LEASE_MS, heartbeatMs: 2_000 } },
    });
    try {
      const worker: number[] = [];
      const lease: number[] = [];
      const answer: number[] = [];
      for (let i = 0; i < RUNS; i++) worker.push(await workerLoss(mesh, i));
      for (let i = 0; i < RUNS; i++) {
        const [l, a] = await coordinatorLoss(mesh, i);
        lease.push(l);
        answer.push(a);
      }
      const line = (name: string, xs: number[]): Figure[] => [
        figure(`${name} p50`, 'ms', percentile(xs, 50), LEASE_MS),
        figure(`${name} max`, 'ms', Math.max(...xs), LEASE_MS),
      ];
      return [
        ...line('worker loss → task reassigned', worker),
        ...line('coordinator loss → new lease', lease),
        ...line('coordinator loss → !run asked at the kill answered', answer),
      ];
    } finally {
      await mesh.stop();
      await hs.stop();
    }
  },
};

async function until<T>(f: () => Promise<T | undefined>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await f();
    if (v !== undefined) return v;
    await sleep(100);
  }
  throw new Error(`no recovery within ${ms} ms`);
}

/** Kills the worker of a running task that is not the coordinator; ms until reassigned. */
async function workerLoss(mesh: ProcessMesh, run: number): Promise<number> {
  const holder = (await mesh.lease())?.holder;
  const requests = [0, 1].map((k) =>
    mesh.ask(`!run sleep ${mesh.inputCid} ms=4000 wl=${run}.${k}`),
  );
  const ids = await Promise.all(requests);
  const victim = await until(async () => {
    for (const id of ids) {
      const a = (await mesh.assignments(id))[0];
      if (a && a.worker !== holder) return { id, worker: a.worker };
    }
    return undefined;
  }, 30_000);
  const i = mesh.bots.findIndex((b) => b.userId === victim.worker);
  mesh.signal(i, 'SIGKILL');
  const killed = Date.now();
  await until(
    async () => ((await mesh.assignments(victim.id)).length > 1 ? true : undefined),
    60_000,
  );
  const took = Date.now() - killed;
  for (const id of ids) await mesh.waitForReply(id, 60_000);
  await mesh.start(i);
  await sleep(LEASE_MS);
  return took;
}

/** Kills the coordinator; ms until a new lease, and until a `!run` asked then is answered. */
async function coordinatorLoss(mesh: ProcessMesh, run: number): Promise<[number, number]> {
  const before = await until(async () => (await mesh.lease()) ?? undefined, 30_000);
  const i = mesh.bots.findIndex((b) => b.userId === before.holder);
  mesh.signal(i, 'SIGKILL');
  const killed = Date.now();
  const request = await mesh.ask(`!run noop ${mesh.inputCid} cl=${run}`);
  await mesh.waitForLease((l) => l.term > before.term, 60_000);
  const leased = Date.now() - killed;
  await mesh.waitForReply(request, 60_000);
  const answered = Date.now() - killed;
  await mesh.start(i);
  await sleep(LEASE_MS);
  return [leased, answered];
}
