/** Options for a dev mesh of bots on the test run's homeserver, with its own dir and accounts. */
import { appendFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DevMesh, DevMeshOptions } from '../../src/dev/dev-mesh.ts';
import type { Message } from '../../src/dev/person.ts';
import { ExternalHomeserver } from '../../src/homeserver/index.ts';
import { createLogger } from '../../src/log/logger.ts';
import { testHomeserver, uniqueLocalpart } from './homeserver.ts';

/** Bots log at debug level to `<dir>/bots.log`, kept for a failing test's post-mortem. */
export async function testMeshOptions(
  name: string,
  extra: Partial<DevMeshOptions> = {},
): Promise<DevMeshOptions & { dir: string }> {
  const hs = testHomeserver();
  const dir = await mkdtemp(join(tmpdir(), `meshbot-${name}-`));
  const logFile = join(dir, 'bots.log');
  return {
    dir,
    bots: 2,
    homeserver: new ExternalHomeserver({
      url: hs.url,
      secret: hs.secret,
      serverName: hs.serverName,
    }),
    prefix: `${uniqueLocalpart(name)}-`,
    log: createLogger({ level: 'debug', write: (l) => appendFileSync(logFile, `${l}\n`) }),
    ...extra,
  };
}

/** A person's command in the mesh room, and the first reply a bot threads to it. */
export async function askMesh(
  mesh: DevMesh,
  body: string,
  timeoutMs: number,
): Promise<{ request: string; reply: Message }> {
  const request = await mesh.person.send(mesh.roomId, body);
  const bots = new Set(mesh.bots.map((b) => b.userId as string));
  const reply = await mesh.person.waitForReply(request, timeoutMs, bots);
  return { request, reply };
}

/** Waits for `ok` to hold, polling, at most `timeoutMs`; fails naming `what`. */
export async function waitUntil(ok: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
