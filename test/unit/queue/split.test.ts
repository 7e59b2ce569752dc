import { CID } from 'multiformats/cid';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../src/errors/index.ts';
import { parsePlan, partTasks } from '../../../src/queue/split.ts';
import { type Task, taskId } from '../../../src/queue/task.ts';
import { cidOf, RAW } from '../../../src/store/cid.ts';

const cid = (s: string) => cidOf(RAW, new TextEncoder().encode(s));
const parent: Task = {
  type: 'task',
  engine: { name: 'whisper', cid: cid('engine') },
  input: cid('recording'),
  params: { model: 'tiny' },
  submitter: '@p:x',
  room: '!r:x',
  request: '$req',
};
const parentId = taskId(parent);
const plan = (parts: { input: string; params: Record<string, string> }[]) =>
  parsePlan({ type: 'meshbot.split', parent: parentId, join: 'transcript', parts });
const two = () =>
  plan([
    { input: cid('a').toString(), params: { part: '1/2', offsetMs: '0' } },
    { input: cid('b').toString(), params: { part: '2/2', offsetMs: '30000' } },
  ]);

describe('split plans', () => {
  it('expand into the same part tasks on every node: the parent with the part input and params', () => {
    const [first, second] = partTasks(parentId, parent, two());
    expect(first?.task).toMatchObject({
      input: cid('a'),
      params: { model: 'tiny', part: '1/2', offsetMs: '0' },
    });
    expect(first?.task.parent?.toString()).toBe(parentId);
    expect(first?.id).toBe(taskId(first?.task as Task));
    expect(partTasks(parentId, parent, two()).map((p) => p.id)).toEqual([first?.id, second?.id]);
  });

  it('refuse plans for another task, parts that split again, and malformed plans', () => {
    expect(() => partTasks('bafyother', parent, two())).toThrow(BadInputError);
    const [first] = partTasks(parentId, parent, two());
    expect(() =>
      partTasks(first?.id ?? '', first?.task as Task, { ...two(), parent: first?.id ?? '' }),
    ).toThrow(/cannot be split again/);
    expect(() => plan([{ input: cid('a').toString(), params: {} }])).toThrow(BadInputError);
    expect(() =>
      parsePlan({ type: 'meshbot.split', parent: parentId, join: 'eval', parts: [] }),
    ).toThrow(BadInputError);
    expect(CID.parse(parentId).toString()).toBe(parentId);
  });
});
