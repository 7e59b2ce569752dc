/**
 * The whitepaper's fibonacci-sum, split → map → reduce, started by one `!run` in a room with
 * three bots on a real Synapse: every node evaluates the pipeline's conditions as results land
 * in the Results GOHO, and the tasks they derive are the same on every node, so none runs
 * twice. Bad conditions are refused at enqueue, with the reason.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as dagJson from '@ipld/dag-json';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINAL } from '../../src/coordinator/task-record.ts';
import { type DevMesh, startDevMesh } from '../../src/dev/dev-mesh.ts';
import type { Message } from '../../src/dev/person.ts';
import { stagePath } from '../../src/evaluator/results-view.ts';
import type { RoomId } from '../../src/ids.ts';
import { MESH_EVENT, REPLY_TAG, type ReplyTag } from '../../src/protocol/manager.ts';
import { askMesh, testMeshOptions, waitUntil } from '../support/mesh.ts';

const REPLY_MS = 90_000;
let mesh: DevMesh;
let dir: string;

beforeAll(async () => {
  const opts = await testMeshOptions('pipeline', {
    bots: 3,
    botConfig: { limits: { fetchTimeoutMs: 6_000 }, evaluator: { maxFanOut: 100 } },
  });
  dir = opts.dir;
  mesh = await startDevMesh(opts);
});

afterAll(async () => {
  await mesh?.stop();
});

const ask = (body: string) => askMesh(mesh, body, REPLY_MS);

async function addJson(value: unknown): Promise<string> {
  const file = join(dir, `input-${Date.now()}-${Math.random()}.json`);
  await writeFile(file, JSON.stringify(value));
  return mesh.add(file, 0);
}

/** F(1) + … + F(n), exactly. */
function fibSum(n: number): bigint {
  let [a, b, sum] = [0n, 1n, 0n];
  for (let i = 1; i <= n; i++) {
    [a, b] = [b, a + b];
    sum += a;
  }
  return sum;
}

/** The tasks assigned in these events, by the pipeline stage they belong to. */
function stageAssignments(events: Message[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of events) {
    if (m.type !== 'org.meshbot.assign') continue;
    const list = (m.content as { assignments?: { task: string; block: string }[] }).assignments;
    for (const a of list ?? []) {
      const task = dagJson.decode(Buffer.from(a.block, 'base64')) as { stage?: { name: string } };
      if (!task.stage) continue;
      out.set(task.stage.name, [...(out.get(task.stage.name) ?? []), a.task]);
    }
  }
  return out;
}

describe('a pipeline started by one !run', () => {
  it('sums the fibonacci numbers through split, map and reduce, each stage in the Results GOHO', async () => {
    const from = mesh.person.seen.length;
    const { reply } = await ask(`!run fibsum ${await addJson({ n: 12 })}`);
    expect(reply.body.split('\n')[0]).toBe(String(fibSum(12)));
    // All three nodes evaluated the conditions, and the mesh ran one set of tasks: 12 map
    // tasks and one reduce task (a task reassigned after a lost worker keeps its id).
    const assigned = stageAssignments(mesh.person.seen.slice(from));
    expect(new Set(assigned.get('fib')).size).toBe(12);
    expect(new Set(assigned.get('sum')).size).toBe(1);
    // Each stage's results reach the Results GOHO of every node, the answer's node included
    // (the stages read the accepted results themselves, so the leaves may come after it).
    const bot = mesh.bots[0];
    if (!bot) throw new Error('no bot');
    const ledger = bot.ledgers.get(mesh.roomId as RoomId);
    const stagesOf = async () => {
      const value = await ledger.resultsGoho.value();
      const sumPath = [...value.keys()].find((k) => k.endsWith('/sum'));
      const root = sumPath?.split('/')[1] ?? '';
      const at = (stage: string, index?: number) => value.get(stagePath(root, stage, index));
      return { start: at('start'), fib11: at('fib', 11), sum: at('sum') };
    };
    await expect.poll(stagesOf, { timeout: 20_000 }).toEqual({
      start: Array.from({ length: 12 }, (_, i) => i + 1),
      fib11: 144,
      sum: Number(fibSum(12)),
    });
  }, 180_000);

  it('gives an exact answer past 2^53 (values travel as decimal strings)', async () => {
    const { reply } = await ask(`!run fibsum ${await addJson({ n: 90 })}`);
    expect(reply.body.split('\n')[0]).toBe(JSON.stringify(fibSum(90).toString()));
  }, 180_000);

  it('runs a definition added to the mesh like any file, with pipeline=<cid>', async () => {
    const definition = {
      type: 'meshbot.pipeline',
      stages: [
        {
          stage: 'double',
          when: "exist('start')",
          action: 'map',
          engine: 'fibsum-map',
          input: "get('start')",
        },
        {
          stage: 'total',
          when: "len('double') == len('start')",
          action: 'enqueue',
          engine: 'fibsum-reduce',
          input: "values('double')",
        },
      ],
      result: 'total',
    };
    const def = await addJson(definition);
    const { reply } = await ask(`!run fibsum-split ${await addJson({ n: 5 })} pipeline=${def}`);
    expect(reply.body.split('\n')[0]).toBe(String(fibSum(5)));
  }, 180_000);

  it('refuses a definition with a bad condition at enqueue, saying why', async () => {
    const bad = {
      type: 'meshbot.pipeline',
      stages: [
        {
          stage: 'a',
          when: "exist('start') &&",
          action: 'enqueue',
          engine: 'fibsum-reduce',
          input: "get('start')",
        },
      ],
      result: 'a',
    };
    const { reply } = await ask(
      `!run fibsum-split ${await addJson({ n: 3 })} pipeline=${await addJson(bad)}`,
    );
    expect(reply.body).toMatch(/stage "a", when: .*condition/);
    const cycle = {
      type: 'meshbot.pipeline',
      stages: [
        {
          stage: 'a',
          when: "exist('b')",
          action: 'enqueue',
          engine: 'fibsum-reduce',
          input: "get('b')",
        },
        {
          stage: 'b',
          when: "exist('a')",
          action: 'enqueue',
          engine: 'fibsum-reduce',
          input: "get('a')",
        },
      ],
      result: 'a',
    };
    const second = await ask(
      `!run fibsum-split ${await addJson({ n: 3 })} pipeline=${await addJson(cycle)}`,
    );
    expect(second.reply.body).toMatch(/cycle: a → b → a/);
    const unknown = {
      type: 'meshbot.pipeline',
      stages: [
        {
          stage: 'a',
          when: "exists('start')",
          action: 'enqueue',
          engine: 'fibsum-reduce',
          input: "get('start')",
        },
      ],
      result: 'a',
    };
    const third = await ask(
      `!run fibsum-split ${await addJson({ n: 3 })} pipeline=${await addJson(unknown)}`,
    );
    expect(third.reply.body).toMatch(/unknown helper "exists"/);
    // A definition travels inside every assignment of its task: a large one is refused.
    const padded = { ...unknown, padding: 'x'.repeat(20_000) };
    const big = await ask(
      `!run fibsum-split ${await addJson({ n: 3 })} pipeline=${await addJson(padded)}`,
    );
    expect(big.reply.body).toMatch(/larger than 16384 bytes/);
  }, 180_000);

  it('withdraws what a failed pipeline derived and has not finished, on every node', async () => {
    // Stage "bad" fails at once (sleep refuses ms=soon); stage "slow" is still running then.
    const definition = {
      type: 'meshbot.pipeline',
      stages: [
        {
          stage: 'bad',
          when: "exist('start')",
          action: 'enqueue',
          engine: 'sleep',
          input: "get('start')",
          params: { ms: 'soon' },
        },
        {
          stage: 'slow',
          when: "exist('start')",
          action: 'map',
          engine: 'sleep',
          input: "get('start')",
          params: { ms: '3000' },
        },
        {
          stage: 'end',
          when: "len('slow') == len('start')",
          action: 'enqueue',
          engine: 'echo',
          input: "values('slow')",
        },
      ],
      result: 'end',
    };
    const from = mesh.person.seen.length;
    const { reply } = await ask(
      `!run fibsum-split ${await addJson({ n: 6 })} pipeline=${await addJson(definition)}`,
    );
    expect(reply.body).toMatch(/stage "bad" failed: sleep failed: RangeError: ms must be a whole/);
    const root = (reply.content[REPLY_TAG] as ReplyTag).task as string;
    const cancel = await mesh.person.waitFor(
      (m) => m.type === MESH_EVENT.cancel && mesh.person.seen.indexOf(m) >= from,
      REPLY_MS,
    );
    const content = cancel.content as { tasks: string[]; reason: string };
    expect(content.reason).toMatch(/^the pipeline failed: stage "bad" failed/);
    expect(content.tasks.length).toBeGreaterThan(0);
    // No book keeps anything of the pipeline to run: the withdrawn tasks are final in every
    // book, cancelled with that reason unless their worker's result landed in the room first.
    let wrong: string[] = [];
    const withdrawn = () => {
      wrong = mesh.bots.flatMap((bot) => {
        const book = bot.node.tasksIn(mesh.roomId as RoomId);
        return book
          .filter((r) => r.parent === root || content.tasks.includes(r.id))
          .filter((r) =>
            r.state === 'cancelled' ? r.error?.message !== content.reason : !FINAL.has(r.state),
          )
          .map((r) => `${bot.userId}: ${r.id} ${r.state} ${r.error?.message ?? ''}`);
      });
      return wrong.length === 0;
    };
    await waitUntil(
      withdrawn,
      REPLY_MS,
      "every node's book to withdraw the pipeline's tasks",
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${wrong.join('; ')}`);
    });
  }, 180_000);

  it('carries an output dag-json would misread by its CID, and every node reads it', async () => {
    // {"/": "x"} is how dag-json writes a link: as a stage value, written as it is, it made a
    // block no peer could read, and every later head of the Results GOHO was refused.
    const definition = {
      type: 'meshbot.pipeline',
      stages: [
        {
          stage: 'end',
          when: "exist('start')",
          action: 'enqueue',
          engine: 'echo',
          input: "get('start')",
        },
      ],
      result: 'end',
    };
    const { reply } = await ask(
      `!run echo ${await addJson({ '/': 'x' })} pipeline=${await addJson(definition)}`,
    );
    const tag = reply.content[REPLY_TAG] as ReplyTag;
    expect(tag.state).toBe('done');
    const root = tag.task as string;
    const readable = async () => {
      const values = await Promise.all(
        mesh.bots.map((b) => b.ledgers.get(mesh.roomId as RoomId).resultsGoho.value()),
      );
      return values.map((v) => v.get(stagePath(root, 'start')));
    };
    await expect
      .poll(readable, { timeout: REPLY_MS })
      .toEqual(mesh.bots.map(() => ({ cid: expect.stringMatching(/^baf/) })));
  }, 180_000);

  it('fails a map above the fan-out limit with the reason, and runs nothing of it', async () => {
    const { reply } = await ask(`!run fibsum ${await addJson({ n: 150 })}`);
    expect(reply.body).toMatch(/would enqueue 150 tasks, above this mesh's limit of 100/);
  }, 180_000);
});
