import { ChrootSynapse } from './chroot-synapse.ts';
import { DockerSynapse } from './docker-synapse.ts';
import { HomeserverError } from './errors.ts';
import { ExternalHomeserver } from './external.ts';
import {
  canUseChroot,
  isProvisioned,
  meshbotCacheDir,
  onPath,
  synapseChrootRoot,
} from './provision.ts';
import type { Homeserver, HomeserverOptions, ManagedHomeserver } from './types.ts';

export { ChrootSynapse } from './chroot-synapse.ts';
export { DockerSynapse } from './docker-synapse.ts';
export * from './errors.ts';
export { ExternalHomeserver } from './external.ts';
export { canUseChroot, meshbotCacheDir, provisionChroot, synapseChrootRoot } from './provision.ts';
export { loginUser, registerUser } from './register.ts';
export * from './types.ts';

export type HomeserverKind = 'external' | 'chroot' | 'docker';

/**
 * Which homeserver this machine can run, in order of preference: an external one named by
 * `MESHBOT_HS_URL`, the provisioned Debian chroot (root on Debian/Ubuntu), then Docker.
 * `chroot` is returned even when not provisioned yet (start() then says what to run).
 */
export function homeserverKind(
  env: Record<string, string | undefined> = process.env,
): HomeserverKind | undefined {
  if (env.MESHBOT_HS_URL !== undefined && env.MESHBOT_HS_URL !== '') return 'external';
  if (canUseChroot() && onPath('chroot', env)) return 'chroot';
  if (onPath('docker', env)) return 'docker';
  return undefined;
}

/** The homeserver for tests and `meshbot dev`; see HomeserverOptions for defaults. */
export function createHomeserver(opts: HomeserverOptions = {}): Homeserver {
  const env = opts.env ?? process.env;
  const cacheDir = opts.cacheDir ?? meshbotCacheDir(env);
  const common = {
    name: opts.name ?? 'default',
    dataDir: opts.dataDir,
    serverName: opts.serverName ?? 'localhost',
    rateLimits: opts.rateLimits ?? 'test',
    port: opts.port,
    startTimeoutMs: opts.startTimeoutMs ?? 90_000,
    stopTimeoutMs: opts.stopTimeoutMs ?? 10_000,
  };
  switch (homeserverKind(env)) {
    case 'external': {
      const secret = env.MESHBOT_HS_SECRET;
      if (secret === undefined || secret === '') {
        throw new HomeserverError(
          'HS_CONFIG',
          'MESHBOT_HS_URL is set but MESHBOT_HS_SECRET (its registration_shared_secret) is not',
        );
      }
      // An external server's rate limits are its own: opts.rateLimits cannot change them.
      return new ExternalHomeserver({
        url: env.MESHBOT_HS_URL as string,
        secret,
        serverName: env.MESHBOT_HS_SERVER_NAME || undefined,
      });
    }
    case 'chroot': {
      const root = synapseChrootRoot(cacheDir);
      if (!isProvisioned(root)) {
        throw new HomeserverError(
          'HS_NOT_PROVISIONED',
          `No Synapse chroot at ${root}: run scripts/synapse/provision.sh ${cacheDir}/synapse`,
        );
      }
      return new ChrootSynapse({ ...common, root });
    }
    case 'docker':
      return new DockerSynapse({ ...common, cacheDir });
    default:
      throw new HomeserverError(
        'HS_UNAVAILABLE',
        'No homeserver available: set MESHBOT_HS_URL and MESHBOT_HS_SECRET, or run as root on Debian/Ubuntu ' +
          'after scripts/synapse/provision.sh, or install Docker (matrixdotorg/synapse)',
      );
  }
}

export function isManaged(hs: Homeserver): hs is ManagedHomeserver {
  return 'restart' in hs && 'dataDir' in hs;
}
