/**
 * Bot side of the deadline keeper (keeper-process.ts): tells it which containers run, until
 * when, and in which run folder, so that a bot that crashes mid-run leaves nothing running
 * past its wall limit, nor its run's files behind.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../../log/logger.ts';

const SCRIPT = fileURLToPath(new URL('./keeper-process.ts', import.meta.url));

/** After its wall limit, how long a crashed bot's container may still run. */
export const KEEPER_GRACE_MS = 2_000;

export interface Keeper {
  /** A container that must be gone by `deadline` (epoch ms) should the bot die, and after it
   * its run folder `dir`. */
  watch(id: string, deadline: number, dir: string): void;
  /** The run removed its container itself. */
  done(id: string): void;
  /** Lets the keeper go (it exits: it holds nothing once every run is done). */
  stop(): void;
}

export interface KeeperOptions {
  socketPath: string;
  apiVersion: string;
  logger: Logger;
}

/** Starts the keeper; undefined (with a log line) when it cannot run. */
export function startKeeper(opts: KeeperOptions): Keeper | undefined {
  let proc: ChildProcess;
  try {
    proc = fork(SCRIPT, [opts.socketPath, opts.apiVersion], {
      detached: true, // its own session: a Ctrl-C or a hang-up of the bot's terminal spares it
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      execArgv: ['--disable-warning=ExperimentalWarning'],
      env: {},
    });
  } catch (err) {
    opts.logger.warn('no deadline keeper for Docker containers', { err });
    return undefined;
  }
  proc.on('error', (err) => opts.logger.warn('deadline keeper error', { err }));
  // It must keep neither the bot's event loop alive nor, once let go, itself.
  proc.unref();
  proc.channel?.unref();
  const send = (msg: object) => {
    if (proc.connected) proc.send(msg);
  };
  return {
    watch: (id, deadline, dir) => send({ type: 'watch', id, deadline, dir }),
    done: (id) => send({ type: 'done', id }),
    stop: () => {
      if (proc.connected) proc.disconnect();
    },
  };
}
