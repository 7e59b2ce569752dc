/**
 * The homeserver restarts while tasks run: no accepted `!run` is lost, none is answered
 * twice. This test runs its own Synapse, since it restarts it.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHomeserver, isManaged, type ManagedHomeserver } from '../../src/homeserver/index.ts';
import { type ProcessMesh, startProcessMesh } from '../support/process-mesh.ts';

const LEASE_MS = 4_000;
let hs: ManagedHomeserver | undefined;
let mesh: ProcessMesh | undefined;

beforeAll(async () => {
  const server = createHomeserver({ name: `test-hsrestart-${randomBytes(3).toString('hex')}` });
  if (!isManaged(server)) return; // an external homeserver cannot be restarted from here
  hs = server;
  await hs.start();
  mesh = await startProcessMesh({
    name: 'hsrestart',
    hs: { url: hs.url, secret: hs.registrationSecret },
    botConfig: { mesh: { leaseMs: LEASE_MS, assignmentLeaseMs: LEASE_MS, heartbeatMs: 2_000 } },
  });
}, 240_000);

afterAll(async () => {
  await mesh?.stop();
  if (hs) {
    await hs.stop();
    await rm(hs.dataDir, { recursive: true, force: true });
  }
});

describe('restarting the homeserver while tasks run', () => {
  it('loses no !run and answers none twice', async (ctx) => {
    if (!hs || !mesh) return ctx.skip();
    const m = mesh;
    const requests: string[] = [];
    for (let i = 0; i < 4; i++)
      requests.push(await m.ask(`!run sleep ${m.inputCid} ms=2000 h=${i}`));
    await expect
      .poll(async () => (await m.assignments(requests[0] as string)).length, { timeout: 20_000 })
      .toBeGreaterThan(0);
    await hs.restart();
    requests.push(await m.ask(`!run wordcount ${m.inputCid}`));
    for (const r of requests) await m.waitForReply(r, 120_000);
    await sleep(LEASE_MS * 2);
    for (const r of requests) expect(await m.replies(r)).toHaveLength(1);
    expect((await m.replies(requests.at(-1) as string))[0]?.body).toContain('"words":3');
  }, 300_000);
});
