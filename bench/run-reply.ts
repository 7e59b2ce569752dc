/**
 * `!run` → reply time for a no-op engine, next to a bare echo round trip (a client sends, a bot
 * replies) on the same homeserver, in the same room, interleaved so both see the same load.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevMesh } from '../src/dev/dev-mesh.ts';
import { createHomeserver } from '../src/homeserver/index.ts';
import { silentLogger } from '../src/log/logger.ts';
import { createBotSdkClient } from '../src/matrix/bot-sdk-client.ts';
import { type Benchmark, figure, percentile } from './harness.ts';

const ROUNDS = Number(process.env.MESHBOT_BENCH_ROUNDS ?? 30);
const REPLY_MS = 30_000;

export const runBenchmark: Benchmark = {
  name: 'run',
  description: '`!run noop` → reply, next to an echo round trip (client sends, bot replies)',
  async run() {
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-bench-'));
    const hs = createHomeserver({ name: `bench-${process.pid}` });
    await hs.start();
    const mesh = await startDevMesh({
      dir,
      bots: 2,
      log: silentLogger,
      homeserver: hs,
      prefix: 'bench-',
    });
    const echoUser = await hs.registerUser('bench-echo', 'bench-echo-password');
    const echo = await createBotSdkClient({
      homeserverUrl: hs.url,
      accessToken: echoUser.accessToken,
      storageFile: join(dir, 'echo', 'sync.json'),
      logger: silentLogger,
    });
    echo.onTimeline(async (room, ev) => {
      if (
        ev.sender === mesh.person.userId &&
        typeof ev.content.body === 'string' &&
        ev.content.body.startsWith('echo ')
      ) {
        await echo.reply(room, ev, ev.content.body);
      }
    });
    await echo.start();
    await mesh.person.client.invite(mesh.roomId, echo.userId);
    await echo.join(mesh.roomId as never);
    const input = join(dir, 'input.txt');
    await writeFile(input, 'x');
    const cid = await mesh.add(input);
    const roundTrip = async (body: string) => {
      const started = performance.now();
      const id = await mesh.person.send(mesh.roomId, body);
      await mesh.person.waitForReply(id, REPLY_MS);
      return performance.now() - started;
    };
    const runs: number[] = [];
    const echoes: number[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        await roundTrip(`echo warm-up ${i}`);
        await roundTrip(`!run noop ${cid} warmup=${i}`);
      }
      for (let i = 0; i < ROUNDS; i++) {
        echoes.push(await roundTrip(`echo ${i}`));
        runs.push(await roundTrip(`!run noop ${cid} round=${i}`));
      }
    } finally {
      await echo.stop();
      await mesh.stop();
      await hs.stop();
    }
    return [
      figure('run→reply p50 (noop engine)', 'ms', percentile(runs, 50), percentile(echoes, 50)),
      figure('run→reply p95 (noop engine)', 'ms', percentile(runs, 95), percentile(echoes, 95)),
    ];
  },
};
