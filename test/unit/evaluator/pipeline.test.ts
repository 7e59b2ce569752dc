/**
 * Pipelines: a definition is checked before anything runs (conditions, stage graph), and two
 * nodes that fire the same condition derive the very same tasks, so nothing is enqueued twice.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveTasks, stageElements } from '../../../src/evaluator/derive.ts';
import { ConditionError } from '../../../src/evaluator/errors.ts';
import { loadPipelines } from '../../../src/evaluator/load.ts';
import { checkPipeline, type Pipeline, parsePipeline } from '../../../src/evaluator/pipeline.ts';
import { pipelineScope } from '../../../src/evaluator/reads.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { type Task, taskId } from '../../../src/queue/task.ts';
import { cidOf, RAW } from '../../../src/store/cid.ts';
import { createStore, type LocalStore } from '../../../src/store/index.ts';

const cid = (s: string) => cidOf(RAW, new TextEncoder().encode(s));

const fibsum = (): Pipeline =>
  parsePipeline({
    type: 'meshbot.pipeline',
    start: 'fibsum-split',
    stages: [
      {
        stage: 'fib',
        when: "exist('start')",
        action: 'map',
        engine: 'fibsum-map',
        input: "get('start')",
      },
      {
        stage: 'sum',
        when: "len('fib') == len('start')",
        action: 'enqueue',
        engine: 'fibsum-reduce',
        input: "values('fib')",
      },
    ],
    result: 'sum',
    engines: { 'fibsum-map': cid('map').toString(), 'fibsum-reduce': cid('reduce').toString() },
  });

const root: Task = {
  type: 'task',
  engine: { name: 'fibsum-split', cid: cid('split') },
  input: cid('{"n": 3}'),
  params: {},
  submitter: '@p:x',
  room: '!r:x',
  request: '$req',
  pipeline: fibsum(),
};

const error = (f: () => unknown): ConditionError => {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ConditionError);
    expect((err as ConditionError).code).toBe('BAD_CONDITION');
    return err as ConditionError;
  }
  throw new Error('expected a ConditionError');
};

const withStages = (stages: unknown[], result = 'a') =>
  ({ type: 'meshbot.pipeline', stages, result }) as unknown;
const stage = (name: string, when: string, input = "get('start')") => ({
  stage: name,
  when,
  action: 'enqueue',
  engine: 'fibsum-reduce',
  input,
});

describe('checking a pipeline before it runs', () => {
  it('accepts the fibonacci-sum pipeline', () => {
    expect(checkPipeline(fibsum()).map((s) => s.stage)).toEqual(['fib', 'sum']);
  });

  it('refuses a syntax error, naming the stage and the position', () => {
    const e = error(() =>
      checkPipeline(parsePipeline(withStages([stage('a', "exist('start') &&")]))),
    );
    expect(e.message).toMatch(/^stage "a", when: condition/);
  });

  it('refuses an unknown helper', () => {
    const e = error(() =>
      checkPipeline(parsePipeline(withStages([stage('a', "exists('start')")]))),
    );
    expect(e.message).toMatch(/unknown helper "exists"/);
  });

  it('refuses a variable conditions do not have, and takes the one they do (task)', () => {
    const e = error(() =>
      checkPipeline(parsePipeline(withStages([stage('a', "exist('start') && tsk != ''")]))),
    );
    expect(e.message).toMatch(
      /^stage "a", when: .*unknown variable "tsk" \(a condition knows "task"\)/,
    );
    const ok = withStages([stage('a', "exist('start') && task != ''")]);
    expect(checkPipeline(parsePipeline(ok)).map((s) => s.stage)).toEqual(['a']);
  });

  it('refuses stages that read each other in a cycle', () => {
    const cycle = withStages([
      stage('a', "exist('b')", "get('b')"),
      stage('b', "exist('c')"),
      stage('c', "exist('a')"),
    ]);
    expect(error(() => checkPipeline(parsePipeline(cycle))).message).toMatch(
      /cycle: a → b → c → a/,
    );
  });

  it('refuses a path computed when the condition runs, which would hide a cycle (review)', () => {
    // a waits on b through a computed path, b on a: the graph check saw no cycle, and neither
    // stage could ever fire.
    const hidden = withStages([stage('a', "exist('b' + '')"), stage('b', "exist('a')")], 'b');
    expect(error(() => checkPipeline(parsePipeline(hidden))).message).toMatch(
      /^stage "a", when: condition "exist\('b' \+ ''\)": exist\(\) is given a computed path; .*string literal/,
    );
    // Every helper that reads a path of the pipeline, in a `when` or an `input`.
    for (const [when, input, helper, where] of [
      ["len('st' + 'art') > 0", "get('start')", 'len', 'when'],
      ["exist('start')", 'get(task)', 'get', 'input'],
      ["keys(get('start')[0]) != undefined", "get('start')", 'keys', 'when'],
      ["exist('start')", "values('start' + '')", 'values', 'input'],
      ["exist('start') && get() == undefined", "get('start')", 'get', 'when'],
      ["exist('start')", 'get(1)', 'get', 'input'],
    ] as const) {
      const e = error(() => checkPipeline(parsePipeline(withStages([stage('a', when, input)]))));
      expect(e.message).toContain(`stage "a", ${where}: `);
      expect(e.message).toContain(`${helper}() is given a computed path`);
    }
    // A computed value elsewhere is fine, and so is hpcp(), which reads another GOHO.
    const fine = stage(
      'a',
      "len('start') > 0 && get('start')[len('start') - 1] > 0",
      "hpcp('o' + '/p')",
    );
    expect(checkPipeline(parsePipeline(withStages([fine]))).map((s) => s.stage)).toEqual(['a']);
  });

  it('refuses a stage that reads a stage nobody writes, and a missing or mapping result stage', () => {
    expect(
      error(() => checkPipeline(parsePipeline(withStages([stage('a', "exist('nope')")])))).message,
    ).toMatch(/reads "nope"/);
    expect(
      error(() => checkPipeline(parsePipeline(withStages([stage('a', 'true')], 'z')))).message,
    ).toMatch(/result stage "z" is not defined/);
    const mapping = withStages([{ ...stage('a', "exist('start')"), action: 'map' }]);
    expect(error(() => checkPipeline(parsePipeline(mapping))).message).toMatch(
      /must enqueue one task/,
    );
  });

  it('refuses a malformed definition with the path of the problem', () => {
    expect(
      error(() => parsePipeline({ type: 'meshbot.pipeline', stages: [], result: 'a' })).message,
    ).toMatch(/at stages/);
    expect(error(() => parsePipeline(withStages([{ ...stage('A b', 'true') }]))).message).toMatch(
      /stages\[0\]\.stage/,
    );
  });
});

describe('evaluating a pipeline', () => {
  const [fib, sum] = checkPipeline(fibsum());
  if (!fib || !sum) throw new Error('stages missing');

  it('fires the map once the split is in, and the reduce once every element is', () => {
    const none = pipelineScope({ local: new Map() });
    expect(fib.whenCondition.holds(none)).toBe(false);
    const split = pipelineScope({ local: new Map<string, unknown>([['start', [1, 2, 3]]]) });
    expect(fib.whenCondition.holds(split)).toBe(true);
    expect(fib.inputCondition.evaluate(split)).toEqual([1, 2, 3]);
    expect(sum.whenCondition.holds(split)).toBe(false);
    const local = new Map<string, unknown>([
      ['start', [1, 2, 3]],
      ['fib/2', 2],
      ['fib/0', 1],
      ['fib/1', 1],
    ]);
    const all = pipelineScope({ local });
    expect(sum.whenCondition.holds(all)).toBe(true);
    expect(sum.inputCondition.evaluate(all)).toEqual([1, 1, 2]);
  });

  it('refuses a map over more elements than the fan-out limit, or over something not a list', () => {
    expect(stageElements(fib, [1, 2, 3], 3)).toHaveLength(3);
    expect(error(() => stageElements(fib, [1, 2, 3, 4], 3)).message).toMatch(
      /would enqueue 4 tasks, above this mesh's limit of 3/,
    );
    expect(error(() => stageElements(fib, 7, 3)).message).toMatch(/not one/);
  });
});

describe('two nodes firing the same condition', () => {
  let dir = '';
  const stores: LocalStore[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshbot-pipeline-'));
    for (const n of ['a', 'b']) {
      const s = createStore({ dir: join(dir, n), logger: silentLogger });
      await s.start();
      stores.push(s);
    }
  });
  afterAll(async () => {
    for (const s of stores) await s.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('derive the same task CIDs, each a part of the root at its stage and element', async () => {
    const [fib] = checkPipeline(fibsum());
    if (!fib) throw new Error('no stage');
    const r = { id: taskId(root), task: root };
    const [a, b] = await Promise.all(stores.map((s) => deriveTasks(s, r, fib, [1, 2, 3])));
    expect(a?.map((t) => t.id)).toEqual(b?.map((t) => t.id));
    expect(new Set(a?.map((t) => t.id)).size).toBe(3);
    const first = a?.[0]?.task;
    expect(first?.parent?.toString()).toBe(r.id);
    expect(first?.stage).toEqual({ name: 'fib', index: 0 });
    expect(first?.engine.cid.toString()).toBe(cid('map').toString());
    expect(first?.pipeline).toBeUndefined();
    const input = await stores[1]?.cat(first?.input ?? cid('x'));
    expect(new TextDecoder().decode(input)).toBe('1');
  });
});

describe('named pipelines in the engines folder', () => {
  it("loads the repo's fibsum, which starts with fibsum-split", async () => {
    const pipelines = await loadPipelines(
      fileURLToPath(new URL('../../../engines', import.meta.url)),
    );
    expect([...pipelines.keys()]).toEqual(['fibsum']);
    expect(pipelines.get('fibsum')?.start).toBe('fibsum-split');
  });

  it('refuses to start with a bad one, naming its file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-pipelines-'));
    try {
      await mkdir(join(dir, 'bad'));
      await writeFile(
        join(dir, 'bad', 'pipeline.json'),
        JSON.stringify(withStages([stage('a', 'len(')])),
      );
      await expect(loadPipelines(dir)).rejects.toThrow(/bad\/pipeline\.json: .*start/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
