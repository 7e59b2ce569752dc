/**
 * HPCP on a real Synapse: three bots append to the room's Results GOHO at the same time and
 * converge on one head; a bot that was down catches up after its restart; announcements
 * that are malformed, from a non-member, or carry a corrupt block are ignored and logged.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as dagJson from '@ipld/dag-json';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bot } from '../../../bots/meshbot.ts';
import { type DevMesh, startDevMesh } from '../../../src/dev/dev-mesh.ts';
import type { RoomId } from '../../../src/ids.ts';
import type { LeafInput } from '../../../src/lattice/index.ts';
import { HPCP_EVENT } from '../../../src/protocol/hpcp.ts';
import { cidOf, DAG_JSON } from '../../../src/store/cid.ts';
import { clientFor, registerUser } from '../../support/homeserver.ts';
import { testMeshOptions } from '../../support/mesh.ts';

const CONVERGE_MS = 30_000;
const botConfig = {
  lattice: {
    announceDelayMs: 200,
    mergeDelayMs: 400,
    answerDelayMs: 300,
    answerIntervalMs: 500,
    // Bitswap over loopback: announcements carry the address, peers dial it.
    listen: ['/ip4/127.0.0.1/tcp/0'],
  },
  archive: { reportDelayMs: 500, warnAfterMs: 1_500 },
};
let opts: Awaited<ReturnType<typeof testMeshOptions>>;
let mesh: DevMesh;

beforeAll(async () => {
  opts = await testMeshOptions('hpcp', { bots: 3, botConfig });
  mesh = await startDevMesh(opts);
}, 120_000);
afterAll(async () => {
  await mesh?.stop();
});

const room = () => mesh.roomId as RoomId;
const ledger = (bot: Bot) => bot.ledgers.get(room());
const results = (bot: Bot) => ledger(bot).resultsGoho;
const heads = (bots: Bot[]) => bots.map((b) => results(b).head().toString());
const leaf = (bot: number, i: number): LeafInput => ({
  path: 'hpcp-test',
  action: 'append',
  value: `bot${bot}-${i}`,
  key: `bot${bot}-${i}`,
  author: `@bot${bot}:test`,
});
const headEvents = () => mesh.person.seen.filter((m) => m.type === HPCP_EVENT.heads).length;
const log = () => readFile(join(opts.dir, 'bots.log'), 'utf8');

async function converged(bots: Bot[], size: number): Promise<void> {
  await expect
    .poll(() => new Set(heads(bots)).size === 1 && results(bots[0] as Bot).size() === size, {
      timeout: CONVERGE_MS,
      interval: 200,
    })
    .toBe(true);
}

/** A second login of a bot's account, to send what a broken or hostile node would. */
async function impersonate(bot: number) {
  const localpart = `${opts.prefix}meshbot${bot}`;
  const passwords = JSON.parse(await readFile(join(opts.dir, 'accounts.json'), 'utf8'));
  const user = await registerUser(localpart, { exact: true, password: passwords[localpart] });
  return clientFor(user);
}

describe('HPCP between three bots on a real Synapse', () => {
  it('converges on one head when all three append at once, without an announce storm', async () => {
    await Promise.all(
      mesh.bots.map(async (bot, b) => {
        for (let i = 0; i < 8; i++) {
          await ledger(bot).append(results(bot), [leaf(b, i)]);
          await new Promise((r) => setTimeout(r, Math.random() * 300));
        }
      }),
    );
    await converged(mesh.bots, 24);
    const values = await Promise.all(mesh.bots.map((b) => results(b).value()));
    for (const v of values) expect(v).toEqual(values[0]);
    // Quiet once converged: no node keeps announcing.
    await new Promise((r) => setTimeout(r, 3_000));
    const settled = headEvents();
    await new Promise((r) => setTimeout(r, 3_000));
    expect(headEvents()).toBe(settled);
    expect(settled).toBeLessThanOrEqual(3 * 8 + 6);
  }, 90_000);

  it('ignores and logs a malformed announcement, one from a non-member, and a corrupt block', async () => {
    const before = heads(mesh.bots);
    const origin = results(mesh.bots[0] as Bot)
      .origin()
      .toString();
    const node = await impersonate(1);
    await node.sendEvent(mesh.roomId, HPCP_EVENT.heads as never, { heads: 'nonsense' } as never);
    // A corrupt block: the bytes of one leaf under the CID of another.
    const real = dagJson.encode({ ...leaf(9, 1), clock: 1 });
    const claimed = cidOf(DAG_JSON, dagJson.encode({ ...leaf(9, 2), clock: 1 }));
    const corrupt = {
      heads: [{ origin, head: claimed.toString(), size: 1 }],
      blocks: [{ cid: claimed.toString(), data: Buffer.from(real).toString('base64') }],
    };
    await node.sendEvent(mesh.roomId, HPCP_EVENT.heads as never, corrupt as never);
    // The person is in the room but is not a node.
    const stranger = {
      heads: [{ origin, head: claimed.toString(), size: 1 }],
      blocks: [{ cid: claimed.toString(), data: Buffer.from(real).toString('base64') }],
    };
    await mesh.person.client.sendEvent(mesh.roomId, HPCP_EVENT.heads as never, stranger as never);
    await expect
      .poll(async () => (await log()).includes('invalid HPCP event dropped'), {
        timeout: 15_000,
      })
      .toBe(true);
    await expect
      .poll(async () => (await log()).includes('announced block rejected'), {
        timeout: 15_000,
      })
      .toBe(true);
    await expect
      .poll(async () => (await log()).includes('that is not a node'), {
        timeout: 15_000,
      })
      .toBe(true);
    await Promise.all(mesh.bots.map((b) => ledger(b).settled()));
    expect(heads(mesh.bots)).toEqual(before);
    node.stopClient();
  }, 60_000);

  it('catches up a bot that was stopped, after its restart', async () => {
    const [one, two, three] = mesh.bots as [Bot, Bot, Bot];
    const size = results(one).size();
    await three.stop();
    for (let i = 0; i < 5; i++) {
      await ledger(one).append(results(one), [leaf(0, 100 + i)]);
      await ledger(two).append(results(two), [leaf(1, 100 + i)]);
    }
    await converged([one, two], size + 10);
    await mesh.stop();
    mesh = await startDevMesh(opts);
    await converged(mesh.bots, size + 10);
  }, 180_000);

  it('pins the newest heads on every archivist and reports them', async () => {
    const bot = mesh.bots[0] as Bot;
    const g = results(bot);
    await expect
      .poll(() => bot.ledgers.archivist?.owners(room(), g.origin(), g.head()).length ?? 0, {
        timeout: 20_000,
      })
      .toBe(1);
    // Every bot of the dev mesh has the same owner: the mesh warns that one owner holds it.
    await expect
      .poll(async () => (await log()).includes('fewer than two nodes of different owners'), {
        timeout: 20_000,
      })
      .toBe(true);
  }, 60_000);
});
