/**
 * vitest globalSetup: one real Synapse per test run, shared by every test file. Tests reach it
 * through `inject('homeserver')` (see test/support/homeserver.ts).
 *
 * Env: MESHBOT_HS_URL + MESHBOT_HS_SECRET use an external server instead;
 * MESHBOT_HS_RATE_LIMITS=default keeps Synapse's own rate limits; MESHBOT_KEEP_HS=1 keeps
 * the data dir (and its logs) after the run.
 *
 * Every temporary file a test makes goes under one directory of the run (TMPDIR, which
 * `os.tmpdir()` reads, is set before the test processes start), removed when the run ends:
 * tests may leave their own behind. MESHBOT_KEEP_TMP=1 keeps it (e2e bots' logs are there).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import {
  createHomeserver,
  homeserverKind,
  isManaged,
  meshbotCacheDir,
  provisionChroot,
  synapseChrootRoot,
} from '../../src/homeserver/index.ts';
import { reapOrphanedInstances } from '../../src/homeserver/reap.ts';
import { type ProvidedDocker, setupDocker } from './docker.ts';

export interface ProvidedHomeserver {
  url: string;
  serverName: string;
  /** registration_shared_secret, for test/support/homeserver.ts's registerUser. */
  secret: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    homeserver: ProvidedHomeserver;
    /** The private Docker engine; absent when MESHBOT_DOCKER=off. */
    docker: ProvidedDocker | undefined;
  }
}

const TEST_PREFIX = 'test-';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Docker first: its setup may install packages, and a failed start must not leave Synapse up.
  const docker = await setupDocker();
  project.provide('docker', docker.docker);
  const kind = homeserverKind();
  if (kind === 'chroot') {
    // The project's own files install what tests need: a no-op in < 1 s once provisioned.
    await provisionChroot(meshbotCacheDir());
    await reapOrphanedInstances(synapseChrootRoot(), TEST_PREFIX);
  }
  const hs = createHomeserver({
    name: `${TEST_PREFIX}${process.pid}-${randomBytes(3).toString('hex')}`,
    rateLimits: process.env.MESHBOT_HS_RATE_LIMITS === 'default' ? 'default' : 'test',
  });
  const started = Date.now();
  await hs.start();
  if (process.env.MESHBOT_HS_VERBOSE === '1') {
    console.error(
      `[global-setup] ${kind} homeserver at ${hs.url} up in ${Date.now() - started} ms`,
    );
  }
  // After the servers have started: they keep the TMPDIR they had.
  const removeTmp = await runTmpDir();
  project.provide('homeserver', {
    url: hs.url,
    serverName: hs.serverName,
    secret: hs.registrationSecret,
  });

  return async () => {
    await docker.teardown();
    await hs.stop();
    if (isManaged(hs) && process.env.MESHBOT_KEEP_HS !== '1') {
      await rm(hs.dataDir, { recursive: true, force: true });
    }
    await removeTmp();
  };
}

/** Points TMPDIR at a new directory of this run; returns what removes it at the end. */
async function runTmpDir(): Promise<() => Promise<void>> {
  const before = process.env.TMPDIR;
  const dir = await mkdtemp(join(tmpdir(), 'meshbot-test-run-'));
  process.env.TMPDIR = dir;
  return async () => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    if (process.env.MESHBOT_KEEP_TMP === '1') {
      console.error(`[global-setup] the run's temporary files are kept in ${dir}`);
      return;
    }
    await rm(dir, { recursive: true, force: true });
  };
}
