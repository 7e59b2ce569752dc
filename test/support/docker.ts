/**
 * The private Docker engine for tests (scripts/docker/): installed when missing, started when
 * not running, its test images built offline. Stopped after the run when this setup started
 * it. MESHBOT_DOCKER=off skips it all (the Docker tests then say they were skipped);
 * MESHBOT_DOCKER=required fails the run when Docker cannot start.
 */
import { execFile } from 'node:child_process';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPTS = fileURLToPath(new URL('../../scripts/docker/', import.meta.url));

export interface ProvidedDocker {
  /** The private dockerd's unix socket. */
  socketPath: string;
  /** A bare busybox image (numeric user 65534) to build hostile engines on. */
  testImage: string;
}

export const TEST_IMAGE = 'meshbot-test/busybox:1';

function dockerDir(env = process.env): string {
  const cache = env.MESHBOT_CACHE || join(env.HOME ?? '/root', '.cache', 'meshbot');
  return env.MESHBOT_DOCKER_DIR || join(cache, 'docker');
}

async function script(name: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('bash', [join(SCRIPTS, name), ...args], {
    timeout: 300_000,
    maxBuffer: 4 * 1024 * 1024,
  }).catch((err: { stderr?: string; message: string }) => {
    throw new Error(`scripts/docker/${name} failed: ${err.stderr || err.message}`);
  });
  return stdout;
}

async function otherLiveUsers(dir: string): Promise<number> {
  let live = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    try {
      process.kill(Number(name), 0);
      live++;
    } catch {
      await rm(join(dir, name), { force: true });
    }
  }
  return live;
}

/** Starts what the Docker tests need; returns the teardown. */
export async function setupDocker(): Promise<{
  docker?: ProvidedDocker;
  teardown: () => Promise<void>;
}> {
  if (process.env.MESHBOT_DOCKER === 'off') return { teardown: async () => {} };
  const wasRunning = await script('dockerd.sh', 'status').then(
    () => true,
    () => false,
  );
  try {
    await script('install.sh');
    await script('dockerd.sh', 'start');
    await script('images.sh');
  } catch (err) {
    // Loud, but not fatal: the rest of the suite still runs, and the Docker tests skip
    // themselves, which the closing line counts as failed (scripts/summary.ts).
    // MESHBOT_DOCKER=required makes it fatal at once.
    if (!wasRunning) await script('dockerd.sh', 'stop').catch(() => {});
    if (process.env.MESHBOT_DOCKER === 'required') throw err;
    console.error(`\n[docker] NO DOCKER ENGINE: the Docker tests are skipped.\n${String(err)}\n`);
    return { teardown: async () => {} };
  }
  const socketPath = join(dockerDir(), 'docker.sock');
  process.env.DOCKER_HOST = `unix://${socketPath}`;
  // Test runs on one machine share the private dockerd: each marks its use, and the last
  // one out stops it (unless it was started by hand).
  const users = join(dockerDir(), 'users');
  await mkdir(users, { recursive: true });
  // Running with no test run using it: someone started it by hand, and keeps it.
  const external = wasRunning && (await otherLiveUsers(users)) === 0;
  await writeFile(join(users, String(process.pid)), '');
  return {
    docker: { socketPath, testImage: TEST_IMAGE },
    teardown: async () => {
      await rm(join(users, String(process.pid)), { force: true });
      if (external || process.env.MESHBOT_KEEP_DOCKER === '1') return;
      if ((await otherLiveUsers(users)) > 0) return;
      await script('dockerd.sh', 'stop');
    },
  };
}
