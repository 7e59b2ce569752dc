/**
 * Three bots as separate processes and a person, on the real Synapse: workers and
 * coordinators die (kill -9) or freeze (SIGSTOP) mid-work, and every accepted `!run` still
 * ends with exactly one reply.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import * as dagJson from '@ipld/dag-json';
import { CID } from 'multiformats/cid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAG_JSON } from '../../src/store/cid.ts';
import { cidOf } from '../../src/store/index.ts';
import { clientFor, registerUser, testHomeserver } from '../support/homeserver.ts';
import { logLines, type ProcessMesh, rssMb, startProcessMesh } from '../support/process-mesh.ts';

const LEASE_MS = 3_000;
const REPLY_MS = 60_000;
let mesh: ProcessMesh;

beforeAll(async () => {
  const hs = testHomeserver();
  mesh = await startProcessMesh({
    name: 'failover',
    hs: { url: hs.url, secret: hs.secret },
    // Moderators and the listed bots only: the intruder below is a member who is not admitted.
    restricted: true,
    botConfig: {
      mesh: { leaseMs: LEASE_MS, assignmentLeaseMs: LEASE_MS, heartbeatMs: 2_000 },
      limits: { fetchTimeoutMs: 4_000 },
    },
  });
}, 180_000);

afterAll(async () => {
  await mesh?.stop();
});

const index = (userId: string) => mesh.bots.findIndex((b) => b.userId === userId);

/** Waits until every request has an answer, then a little more, and counts the answers. */
async function answeredOnce(requests: string[]): Promise<void> {
  for (const r of requests) await mesh.waitForReply(r, REPLY_MS);
  await sleep(LEASE_MS);
  for (const r of requests) expect((await mesh.replies(r)).map((m) => m.body)).toHaveLength(1);
}

async function assigned(request: string): Promise<{ worker: string; task: string }> {
  await expect
    .poll(async () => (await mesh.assignments(request)).length, { timeout: 20_000 })
    .toBeGreaterThan(0);
  return (await mesh.assignments(request))[0] as { worker: string; task: string };
}

describe('who may do what in a mesh', () => {
  let intruder: { userId: string; accessToken: string };

  beforeAll(async () => {
    const user = await registerUser('intruder');
    await mesh.person.client.invite(mesh.roomId, user.userId);
    await clientFor(user).joinRoom(mesh.roomId);
    intruder = user;
  });

  it('a member who is not admitted posts !run: nothing runs, and they are told why', async () => {
    const request = await sendAs(intruder.accessToken, 'm.room.message', {
      msgtype: 'm.text',
      body: `!run wordcount ${mesh.inputCid}`,
    });
    const reply = await mesh.waitForReply(request, REPLY_MS);
    expect(reply.body).toContain('is not admitted to run work in this mesh');
    await sleep(1_000);
    expect(await mesh.assignments(request)).toEqual([]);
  });

  it('forged Assign and Complete events from a member who announced itself but is no node are ignored', async () => {
    const worker = mesh.bots[1] as (typeof mesh.bots)[0];
    const { term } = (await mesh.lease()) as { term: number };
    // Announcing itself is open to every member (so invited bots can join); it makes no node
    // of a member who may not run work.
    const announced = await mesh.person.client.getStateEvent(
      mesh.roomId,
      'org.meshbot.node',
      worker.userId,
    );
    await stateAs(intruder.accessToken, 'org.meshbot.node', intruder.userId, {
      ...announced,
      owner: intruder.userId,
      ts: Date.now(),
    });
    const forged = await forgedTask(worker.userId);
    await sendAs(intruder.accessToken, 'org.meshbot.assign', {
      term,
      assignments: [{ task: forged.task, worker: worker.userId, attempt: 1, block: forged.block }],
    });
    const request = await mesh.ask(`!run sleep ${mesh.inputCid} ms=1500 forged=1`);
    const real = (await assigned(request)).task;
    await sendAs(intruder.accessToken, 'org.meshbot.complete', {
      completions: [{ task: real, attempt: 1, ok: false, error: { code: 'X', message: 'forged' } }],
    });
    const reply = await mesh.waitForReply(request, REPLY_MS);
    expect(reply.body).toMatch(/^ok/);
    expect(await completionsOf(forged.task)).toBe(0);
  });

  it('1,000 malformed or hostile custom events: no crash, memory stays flat, work goes on', async () => {
    const before = await Promise.all(mesh.bots.map(rssMb));
    const senders = [intruder.accessToken, mesh.bots[2]?.accessToken as string];
    // Four at a time: the server, not the sender, should be what limits the pace.
    for (let i = 0; i < 1_000; i += 4) {
      await Promise.all(
        [0, 1, 2, 3].map((k) => {
          const [type, content] = hostile(i + k);
          return sendAs(senders[(i + k) % 2] as string, type, content);
        }),
      );
    }
    const request = await mesh.ask(`!run wordcount ${mesh.inputCid}`);
    const reply = await mesh.waitForReply(request, REPLY_MS);
    expect(reply.body).toContain('"words":3');
    const after = await Promise.all(mesh.bots.map(rssMb));
    for (let i = 0; i < before.length; i++) {
      expect(after[i] as number).toBeLessThan((before[i] as number) + 96);
    }
    for (const b of mesh.bots) expect(b.proc?.exitCode).toBeNull();
  }, 180_000);
});

/** The i-th hostile event: every mesh event type, with content that is wrong in some way. */
function hostile(i: number): [string, object] {
  const types = [
    'org.meshbot.assign',
    'org.meshbot.complete',
    'org.meshbot.accept',
    'org.meshbot.renew',
    'org.meshbot.cancel',
    'org.meshbot.head',
    'org.meshbot.want',
    'org.meshbot.blocks',
  ];
  const big = 'x'.repeat(20_000);
  const contents: object[] = [
    {},
    { term: -1, assignments: 'nope' },
    {
      term: 9_007_199_254_740_991,
      assignments: [{ task: big, worker: '@x', attempt: 0, block: '!!' }],
    },
    { completions: Array.from({ length: 150 }, () => ({ task: 'bafy', ok: 'yes' })) },
    { leases: [{ task: 'bafkqaaa', attempt: 1e9 }], extra: { deep: { deeper: [1, 2, [3]] } } },
    { tasks: ['bafkqaaa'], term: 99_999 },
    { cids: Array.from({ length: 60 }, (_, k) => `bafy${k}`), nonce: big },
    { origin: 'bafkqaaa', head: 'not a cid', blocks: [{ cid: 'bafkqaaa', data: '%%%' }] },
    { __proto__: { polluted: true }, constructor: { prototype: { x: 1 } } },
  ];
  return [types[i % types.length] as string, contents[i % contents.length] as object];
}

describe('a mesh that loses nodes keeps every accepted !run', () => {
  it('kill -9 a worker mid-task: its task completes elsewhere, nothing lost or answered twice', async () => {
    const { holder } = (await mesh.lease()) as { holder: string };
    const requests: string[] = [];
    for (let i = 0; i < 3; i++)
      requests.push(await mesh.ask(`!run sleep ${mesh.inputCid} ms=4500 w=${i}`));
    const placed = await Promise.all(requests.map(assigned));
    const victimAt = placed.findIndex((a) => a.worker !== holder);
    expect(victimAt).toBeGreaterThanOrEqual(0);
    const victim = index(placed[victimAt]?.worker as string);
    mesh.signal(victim, 'SIGKILL');
    try {
      await answeredOnce(requests);
      for (const r of requests) expect((await mesh.replies(r))[0]?.body).toMatch(/^ok/);
      const tries = await mesh.assignments(requests[victimAt] as string);
      expect(tries.length).toBeGreaterThanOrEqual(2);
      expect(tries.at(-1)?.worker).not.toBe(mesh.bots[victim]?.userId);
    } finally {
      await mesh.start(victim);
    }
  }, 120_000);

  it('kill -9 the coordinator: another takes over with a higher term and the queued work finishes', async () => {
    const before = (await mesh.lease()) as { holder: string; term: number };
    const requests: string[] = [];
    for (let i = 0; i < 4; i++)
      requests.push(await mesh.ask(`!run sleep ${mesh.inputCid} ms=1500 c=${i}`));
    await assigned(requests[0] as string);
    mesh.signal(index(before.holder), 'SIGKILL');
    // Asked while no node coordinates: the next coordinator takes it up.
    requests.push(await mesh.ask(`!run wordcount ${mesh.inputCid}`));
    const after = await mesh.waitForLease((l) => l.term > before.term, 30_000);
    expect(after.holder).not.toBe(before.holder);
    await answeredOnce(requests);
    expect((await mesh.replies(requests.at(-1) as string))[0]?.body).toContain('"words":3');
    await mesh.start(index(before.holder));
  }, 120_000);

  it('a coordinator frozen past its lease is replaced; when it wakes, its old-term assignments are rejected', async () => {
    const before = (await mesh.lease()) as { holder: string; term: number };
    const old = index(before.holder);
    mesh.signal(old, 'SIGSTOP');
    const after = await mesh.waitForLease((l) => l.term > before.term, 30_000);
    const whileFrozen = await mesh.ask(`!run wordcount ${mesh.inputCid}`);
    await mesh.waitForReply(whileFrozen, REPLY_MS);
    mesh.signal(old, 'SIGCONT');
    await sleep(LEASE_MS);
    // What the woken node might still send: an assignment of its old term to a worker.
    const worker = mesh.bots.find((b) => b.userId !== before.holder && b.userId !== after.holder);
    const target =
      worker ?? (mesh.bots.find((b) => b.userId === after.holder) as (typeof mesh.bots)[0]);
    const rejectedBefore = (await logLines(target, 'assignment from an old term rejected')).length;
    const { task, block } = await forgedTask(target.userId);
    await sendAs(mesh.bots[old]?.accessToken as string, 'org.meshbot.assign', {
      term: before.term,
      assignments: [{ task, worker: target.userId, attempt: 1, block }],
    });
    await expect
      .poll(async () => (await logLines(target, 'assignment from an old term rejected')).length, {
        timeout: 15_000,
      })
      .toBeGreaterThan(rejectedBefore);
    await sleep(2_000);
    expect(await completionsOf(task)).toBe(0);
    // The woken node is a plain member again: new work is answered once, by the new term.
    const later = await mesh.ask(`!run wordcount ${mesh.inputCid}`);
    await answeredOnce([whileFrozen, later]);
    expect((await mesh.lease())?.term).toBeGreaterThan(before.term);
  }, 120_000);
});

describe('a node that is kicked', () => {
  it('is out at once: its task is assigned elsewhere and answered once; invited back, it rejoins', async () => {
    const { holder } = (await mesh.lease()) as { holder: string };
    const requests: string[] = [];
    for (let i = 0; i < 3; i++)
      requests.push(await mesh.ask(`!run sleep ${mesh.inputCid} ms=4000 k=${i}`));
    const placed = await Promise.all(requests.map(assigned));
    const at = placed.findIndex((a) => a.worker !== holder);
    const kicked = placed[at]?.worker as string;
    await mesh.person.client.kick(mesh.roomId, kicked, 'testing');
    await answeredOnce(requests);
    const tries = await mesh.assignments(requests[at] as string);
    expect(tries.at(-1)?.worker).not.toBe(kicked);
    await mesh.person.client.invite(mesh.roomId, kicked);
    await mesh.person.waitForJoin(mesh.roomId, kicked, 30_000);
  }, 120_000);
});

/** A valid noop task block for the mesh room (as a coordinator would send it). */
async function forgedTask(worker: string): Promise<{ task: string; block: string }> {
  const state = (await mesh.person.client.getStateEvent(
    mesh.roomId,
    'org.meshbot.node',
    worker,
  )) as {
    engines: { name: string; cid: string }[];
  };
  const engine = state.engines.find((e) => e.name === 'noop') as { cid: string };
  const bytes = dagJson.encode({
    type: 'task',
    engine: { name: 'noop', cid: CID.parse(engine.cid) },
    input: CID.parse(mesh.inputCid),
    params: { forged: String(Date.now()) },
    submitter: mesh.person.userId,
    room: mesh.roomId,
    request: `$forged${Date.now()}`,
  });
  return { task: cidOf(DAG_JSON, bytes).toString(), block: Buffer.from(bytes).toString('base64') };
}

async function sendAs(token: string, type: string, content: object): Promise<string> {
  const url = `${testHomeserver().url}/_matrix/client/v3/rooms/${encodeURIComponent(mesh.roomId)}/send/${type}/t${Date.now()}${Math.random()}`;
  const res = await fetch(url, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(content),
  });
  if (!res.ok) throw new Error(`send ${type} failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { event_id: string }).event_id;
}

async function stateAs(token: string, type: string, key: string, content: object): Promise<void> {
  const url = `${testHomeserver().url}/_matrix/client/v3/rooms/${encodeURIComponent(mesh.roomId)}/state/${type}/${encodeURIComponent(key)}`;
  const res = await fetch(url, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(content),
  });
  if (!res.ok) throw new Error(`state ${type} failed: ${res.status} ${await res.text()}`);
}

async function completionsOf(task: string): Promise<number> {
  return (await mesh.history()).filter(
    (e) =>
      e.type === 'org.meshbot.complete' &&
      ((e.content.completions as { task: string }[]) ?? []).some((c) => c.task === task),
  ).length;
}
