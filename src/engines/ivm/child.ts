/** The isolated-vm sandbox process, as the runtime sees it. */
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../log/logger.ts';
import { type SandboxChild as Child, spawnChild } from '../child/child.ts';
import type { ChildMessage, ParentMessage } from './protocol.ts';
import { parseChildMessage } from './wire-check.ts';

const SCRIPT = fileURLToPath(new URL('./sandbox-process.ts', import.meta.url));

export type SandboxChild = Child<ParentMessage, ChildMessage>;

export interface SpawnOptions {
  logger: Logger;
  cacheSize: number;
  /** What the sandbox process may hold between tasks, MiB: past it, its warm realms go. */
  warmMb: number;
  startTimeoutMs: number;
  signal?: AbortSignal;
}

export function spawnSandbox(opts: SpawnOptions): Promise<SandboxChild> {
  return spawnChild<ParentMessage, ChildMessage>({
    script: SCRIPT,
    // isolated-vm needs --no-node-snapshot on Node >= 20. --expose-gc: realm-pool.ts collects
    // a realm's garbage before it judges how much the realm holds.
    execArgv: ['--no-node-snapshot', '--expose-gc', '--disable-warning=ExperimentalWarning'],
    env: { MESHBOT_IVM_CACHE: String(opts.cacheSize), MESHBOT_IVM_WARM_MB: String(opts.warmMb) },
    parse: parseChildMessage,
    logger: opts.logger,
    startTimeoutMs: opts.startTimeoutMs,
    signal: opts.signal,
  });
}
