/**
 * A run that splits its input becomes a split plan, which every node checks against
 * splitPlanSchema: a plan of more parts than that takes must fail the run that made it, with
 * the reason, not later on every node as a plan that "could not be read".
 */
import { describe, expect, it } from 'vitest';
import type { EnginePackage, RunResult } from '../../../src/engines/types.ts';
import { runTask } from '../../../src/node/run-task.ts';
import { MAX_SPLIT_PARTS, parsePlan } from '../../../src/queue/split.ts';
import type { Task } from '../../../src/queue/task.ts';
import { fakeRoom, ROOM } from '../../support/fake-room.ts';

const text = (s: string) => new TextEncoder().encode(s);

/** A worker whose engine splits any input into `n` parts. */
async function splitting(n: number) {
  const f = await fakeRoom({ self: '@me:hs', members: ['@alice:hs'] });
  const part = (await f.ctx.store.addBytes(text('a part'))).toString();
  const result: RunResult = {
    output: text('{}'),
    logs: [],
    cpuMs: 0,
    wallMs: 0,
    split: {
      parts: Array.from({ length: n }, (_, i) => ({
        input: part,
        params: { part: `${i + 1}/${n}` },
      })),
      join: 'transcript',
    },
  };
  Object.assign(f.ctx, {
    runtime: { download: async () => ({}) as EnginePackage, run: async () => result },
  });
  const task: Task = {
    type: 'task',
    engine: { name: 'whisper', cid: await f.ctx.store.addBytes(text('engine')) },
    input: await f.ctx.store.addBytes(text('a long recording')),
    params: {},
    submitter: '@alice:hs',
    room: ROOM,
    request: '$run',
  };
  return { f, task };
}

describe('a run that splits its input', () => {
  it('stores a plan every node can read, up to MAX_SPLIT_PARTS parts', async () => {
    const { f, task } = await splitting(MAX_SPLIT_PARTS);
    const outcome = await runTask(f.ctx, task, 'bafytaskid');
    expect(outcome.split).toBe(true);
    const plan = parsePlan(await f.ctx.store.getDag(outcome.result));
    expect(plan.parts).toHaveLength(MAX_SPLIT_PARTS);
  });

  it('fails, naming the engine and the count, with more parts than a plan may hold', async () => {
    const { f, task } = await splitting(MAX_SPLIT_PARTS + 8);
    const err = await runTask(f.ctx, task, 'bafytaskid').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ENGINE_OUTPUT', retryable: false });
    expect((err as { userMessage: string }).userMessage).toContain(
      `whisper gave unusable output: it split the input into ${MAX_SPLIT_PARTS + 8} parts`,
    );
  });

  it('fails with a single part, which is no split', async () => {
    const { f, task } = await splitting(1);
    await expect(runTask(f.ctx, task, 'bafytaskid')).rejects.toMatchObject({
      code: 'ENGINE_OUTPUT',
    });
  });
});
