/**
 * A node's Runner from its config: isolated-vm always, Docker when enabled and answering,
 * whisper when enabled and smart-whisper is built.
 */
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log/logger.ts';
import type { Store } from '../store/types.ts';
import type { ModelInfo, Models } from '../whisper/models.ts';
import { createWhisperRuntime } from '../whisper/runtime.ts';
import { createDockerRuntime } from './docker/index.ts';
import { createIvmRuntime } from './ivm/index.ts';
import { createRunner, type Runner } from './runner.ts';
import type { EngineRuntime } from './types.ts';

export interface RunnerDeps {
  /** The node's Whisper models; no whisper runtime without them. */
  models?: Models;
  /** The models other nodes announce (read when a run needs a model). */
  meshModels?: () => ModelInfo[];
}

export function createEngineRunner(
  config: Config,
  store: Store,
  log: Logger,
  deps: RunnerDeps = {},
): Runner {
  const runtimes: EngineRuntime[] = [createIvmRuntime({ logger: log.child({ part: 'ivm' }) })];
  if (config.whisper.enabled && deps.models) {
    runtimes.push(
      createWhisperRuntime({
        config: config.whisper,
        models: deps.models,
        store,
        meshModels: deps.meshModels,
        logger: log.child({ part: 'whisper' }),
      }),
    );
  }
  const docker = config.engines.docker;
  if (docker.enabled) {
    const dataDir = resolve(config.dataDir);
    runtimes.push(
      createDockerRuntime({
        logger: log.child({ part: 'docker' }),
        socketPath: docker.socket,
        pull: docker.pull,
        cpus: docker.cpus,
        pidsLimit: docker.pidsLimit,
        workDir: join(dataDir, 'docker-runs'),
        // The same node after a restart: it reaps the containers it left behind.
        owner: `node-${createHash('sha256').update(dataDir).digest('hex').slice(0, 16)}`,
      }),
    );
  }
  return createRunner({
    runtimes,
    store,
    allow: config.engines.allow,
    logger: log,
    downloadTimeoutMs: config.limits.fetchTimeoutMs,
  });
}
