/**
 * The standard meshbot node: the one place where its parts are wired together.
 * A failed start unwinds what had started; stop is idempotent.
 */

import { join } from 'node:path';
import { GcBarrier } from '../src/archivist/barrier.ts';
import { GcSchedule } from '../src/archivist/schedule.ts';
import type { Config } from '../src/config/schema.ts';
import { loadEngines } from '../src/engines/manifest.ts';
import { createEngineRunner } from '../src/engines/node-runner.ts';
import { loadPipelines } from '../src/evaluator/load.ts';
import type { UserId } from '../src/ids.ts';
import type { Logger } from '../src/log/logger.ts';
import { createBotSdkClient } from '../src/matrix/bot-sdk-client.ts';
import { Admission } from '../src/mesh/admission.ts';
import { Roster } from '../src/mesh/roster.ts';
import { DataDirBusyError, holder } from '../src/node/data-dir-lock.ts';
import { HeadsFile } from '../src/node/heads-file.ts';
import { createLedgers, type Ledgers } from '../src/node/ledgers.ts';
import { MeshNode } from '../src/node/mesh-node.ts';
import { claimNode } from '../src/node/node-claim.ts';
import { createStore } from '../src/store/index.ts';
import { announcedModels } from '../src/whisper/announce.ts';
import { createModels } from '../src/whisper/models.ts';

export interface Bot {
  readonly userId: UserId;
  readonly node: MeshNode;
  /** The node's replicated ledgers (GOHOs and HPCP), per room. */
  readonly ledgers: Ledgers;
  /** Its garbage collection (`archive.gcIntervalMinutes`); `gc.run()` collects now. */
  readonly gc: GcSchedule;
  stop(): Promise<void>;
}

export async function startBot(config: Config, log: Logger): Promise<Bot> {
  const stops: (() => Promise<void>)[] = [];
  const abort = new AbortController();
  const stop = async () => {
    abort.abort(new Error('node stopping'));
    for (const s of stops.reverse())
      await s().catch((err: unknown) => log.warn('stop step failed', { err }));
    stops.length = 0;
  };
  try {
    const onLost = () =>
      log.error('another node took this data dir (node.pid): stop one of the two', {
        dataDir: config.dataDir,
      });
    stops.push(await claimNode(config.dataDir, { onLost }));
    const gcPid = await holder(config.dataDir, 'gc');
    if (gcPid !== undefined) {
      throw new DataDirBusyError(
        `\`meshbot gc\` (pid ${gcPid}) is collecting garbage in ${config.dataDir}: start the node when it is done`,
      );
    }
    const raw = createStore({
      dir: join(config.dataDir, 'store'),
      logger: log.child({ part: 'store' }),
      listen: config.lattice.listen,
    });
    await raw.start();
    stops.push(() => raw.stop());
    // Everything but the garbage collector uses the store through the barrier.
    const barrier = new GcBarrier(raw);
    const store = barrier.guard(raw);
    const models = createModels({
      dir: join(config.dataDir, 'models'),
      store,
      sources: config.whisper.models,
      allowDownload: config.whisper.download,
      log: log.child({ part: 'models' }),
    });
    // The roster comes later; until then no peer's models are known.
    let roster: Roster | undefined;
    const meshModels = () => (roster ? announcedModels(roster) : []);
    const runtime = createEngineRunner(config, store, log, { models, meshModels });
    await runtime.start();
    stops.push(() => runtime.stop());
    // Only engines allowed and runnable here are offered; their packages go into the store.
    const engines = await runtime.load(await loadEngines(config.engines.dir));
    const pipelines = await loadPipelines(config.engines.dir);
    const client = await createBotSdkClient({
      homeserverUrl: config.homeserver.url,
      accessToken: config.homeserver.accessToken as string,
      storageFile: join(config.dataDir, 'matrix', 'sync.json'),
      logger: log.child({ part: 'matrix' }),
    });
    const self = client.userId;
    const nodeLog = log.child({ node: self });
    const heads = new HeadsFile(join(config.dataDir, 'heads.json'));
    await heads.load();
    roster = new Roster(client, nodeLog);
    const admission = new Admission(config);
    const ledgers = await createLedgers(config, {
      store,
      client,
      heads,
      log: nodeLog,
      self,
      roster,
      admission,
      network: store,
      barrier,
      signal: abort.signal,
    });
    const node = new MeshNode({
      config,
      client,
      store,
      runtime,
      engines,
      pipelines,
      roster,
      admission,
      ledgers,
      log: nodeLog,
      self,
      signal: abort.signal,
      models,
    });
    stops.push(() => client.stop());
    await node.start();
    const gc = new GcSchedule({
      collect: ({ signal }) =>
        ledgers.collectGarbage({ signal, protect: (o) => node.taskBlocks(o) }),
      log: nodeLog.child({ part: 'gc' }),
      options: { intervalMinutes: config.archive.gcIntervalMinutes },
      signal: abort.signal,
    });
    // Stopped first: a collection running is aborted and ends before the store closes.
    stops.push(() => gc.stop());
    gc.start();
    nodeLog.info('node started', { engines: [...engines.keys()], rooms: undefined });
    return { userId: self, node, ledgers, gc, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
