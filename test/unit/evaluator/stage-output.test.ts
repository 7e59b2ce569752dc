/** What a pipeline's conditions see of a task's output. */
import { describe, expect, it } from 'vitest';
import { stagePath } from '../../../src/evaluator/results-view.ts';
import {
  MAX_STAGE_VALUE_BYTES,
  readStageValue,
  stageLeaf,
  stageValue,
} from '../../../src/evaluator/stage-output.ts';
import { createGoho, MAX_VALUE_DEPTH } from '../../../src/lattice/index.ts';
import type { Task } from '../../../src/queue/task.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';

const RESULT = 'bafkreiresult';
const bytes = (s: string) => new TextEncoder().encode(s);

describe('stageValue', () => {
  it('is the output parsed as JSON, or its text when it is not JSON', () => {
    expect(stageValue(bytes('[1,2,{"a":"b"}]'), RESULT)).toEqual([1, 2, { a: 'b' }]);
    expect(stageValue(bytes('hello'), RESULT)).toBe('hello');
  });

  it('refers to the output by CID when it is large or not UTF-8', () => {
    const large = new Uint8Array(MAX_STAGE_VALUE_BYTES + 1).fill(0x31);
    expect(stageValue(large, RESULT)).toEqual({ cid: RESULT });
    expect(stageValue(new Uint8Array([0xff, 0xfe]), RESULT)).toEqual({ cid: RESULT });
  });

  it('refers to JSON with a "/" key by CID: a leaf cannot carry it as it is', () => {
    expect(stageValue(bytes('{"/":"x"}'), RESULT)).toEqual({ cid: RESULT });
    expect(stageValue(bytes('[{"ok":{"/":{"bytes":"AA"}}}]'), RESULT)).toEqual({ cid: RESULT });
  });

  it('refers to JSON nested deeper than a leaf can be encoded by CID, and stores what it keeps', async () => {
    const nest = (depth: number, open = '[', close = ']') =>
      `${open.repeat(depth)}1${close.repeat(depth)}`;
    // 4000 levels (8 KB) ran dag-json's encoder out of stack: the leaf was lost.
    for (const deep of [nest(MAX_VALUE_DEPTH + 1), nest(4000), nest(8000)]) {
      expect(stageValue(bytes(deep), RESULT)).toEqual({ cid: RESULT });
    }
    const maps = `${'{"a":'.repeat(MAX_VALUE_DEPTH + 1)}1${'}'.repeat(MAX_VALUE_DEPTH + 1)}`;
    expect(stageValue(bytes(maps), RESULT)).toEqual({ cid: RESULT });
    const kept = stageValue(bytes(nest(MAX_VALUE_DEPTH)), RESULT);
    expect(JSON.stringify(kept)).toBe(nest(MAX_VALUE_DEPTH));
    // What it keeps, a leaf carries: the Results GOHO takes it.
    const goho = await createGoho(createMemoryStore(), { name: 'results' });
    await goho.append({
      path: stagePath('x', 'start'),
      action: 'set',
      value: kept,
      author: 'w',
    });
  });
});

describe('stageLeaf', () => {
  const ROOT = 'bafyroot';
  // stageLeaf reads only what makes a task a pipeline's: its pipeline, or its stage and parent.
  const task = (fields: object) => fields as unknown as Task;
  const parent = { toString: () => ROOT };

  it("puts a pipeline task's output at its stage's path", () => {
    expect(stageLeaf(task({ pipeline: {} }), ROOT, [1], '@w:x')).toEqual({
      path: stagePath(ROOT, 'start'),
      action: 'set',
      value: [1],
      author: '@w:x',
    });
    const mapped = task({ stage: { name: 'fib', index: 2 }, parent });
    expect(stageLeaf(mapped, 'bafytask', 5, '@w:x')?.path).toBe(stagePath(ROOT, 'fib', 2));
  });

  it('gives no leaf for a task outside a pipeline', () => {
    expect(stageLeaf(task({}), 'bafytask', 5, '@w:x')).toBeNull();
  });
});

describe('readStageValue', () => {
  it('is stageValue of the output the result names, read from the store', async () => {
    const store = createMemoryStore();
    const small = (await store.addBytes(bytes('[1,2]'))).toString();
    expect(await readStageValue(store, small)).toEqual([1, 2]);
    const large = new Uint8Array(4 * MAX_STAGE_VALUE_BYTES).fill(0x31);
    const big = (await store.addBytes(large)).toString();
    expect(await readStageValue(store, big)).toEqual({ cid: big });
  });

  it('fails when the output cannot be had (it is read again later)', async () => {
    const missing = (await createMemoryStore().addBytes(bytes('elsewhere'))).toString();
    const signal = AbortSignal.timeout(1000);
    await expect(readStageValue(createMemoryStore(), missing, { signal })).rejects.toThrow();
  });
});
