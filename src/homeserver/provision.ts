import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROVISIONED_MARKER } from './chroot-synapse.ts';
import { HomeserverError } from './errors.ts';

type Env = Record<string, string | undefined>;

/** `$MESHBOT_CACHE`, else `~/.cache/meshbot`. */
export function meshbotCacheDir(env: Env = process.env): string {
  return env.MESHBOT_CACHE ?? join(homedir(), '.cache', 'meshbot');
}

/** The chroot that scripts/synapse/provision.sh builds. */
export function synapseChrootRoot(cacheDir: string = meshbotCacheDir()): string {
  return join(cacheDir, 'synapse', 'root');
}

export const PROVISION_SCRIPT = fileURLToPath(
  new URL('../../scripts/synapse/provision.sh', import.meta.url),
);

export function isProvisioned(root: string): boolean {
  return existsSync(join(root, PROVISIONED_MARKER));
}

/** Root on Debian or Ubuntu: what debootstrap and chroot need. */
export function canUseChroot(): boolean {
  return (
    process.platform === 'linux' && process.getuid?.() === 0 && existsSync('/etc/debian_version')
  );
}

export function onPath(command: string, env: Env = process.env): boolean {
  return (env.PATH ?? '')
    .split(delimiter)
    .some((dir) => dir !== '' && existsSync(join(dir, command)));
}

/**
 * Runs provision.sh (a fast no-op when the chroot is complete; minutes when cold). Its
 * progress lines go to this process's stderr.
 */
export function provisionChroot(
  cacheDir: string = meshbotCacheDir(),
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [PROVISION_SCRIPT, join(cacheDir, 'synapse')], {
      stdio: ['ignore', 'inherit', 'inherit'],
      signal,
    });
    child.once('error', (err) => {
      reject(
        signal?.aborted === true
          ? signal.reason
          : new HomeserverError(
              'HS_NOT_PROVISIONED',
              `provision.sh could not run: ${err.message}`,
              { cause: err },
            ),
      );
    });
    child.once('exit', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new HomeserverError(
            'HS_NOT_PROVISIONED',
            `${PROVISION_SCRIPT} failed with exit code ${code}`,
          ),
        );
    });
  });
}
