/**
 * A pipeline: the conditions a task definition carries (the whitepaper's DRES). The task that
 * carries them runs first (its output is the stage `start`); each condition is a stage that,
 * once its `when` holds over the pipeline's results, enqueues one task (`enqueue`) or one task
 * per element of a list (`map`). The stage named `result` gives the pipeline's answer.
 *
 * Conditions are checked when the pipeline is enqueued: syntax, helpers, stage names, the
 * stages each one reads (no cycles, no unknown stage; each path a string literal, so that every
 * stage read is seen), so a bad definition gets its reply before anything runs.
 */
import { z } from 'zod';
import { parseWith } from '../errors/index.ts';
import { compileCondition } from './compile.ts';
import { ConditionError } from './errors.ts';
import { PIPELINE_HELPERS, PIPELINE_VARIABLES, stagesRead } from './reads.ts';
import type { Condition } from './types.ts';

const stageName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, 'a stage name: a-z, 0-9 and -, at most 32 characters');
const engineName = z.string().min(1).max(128);

export const stageSchema = z.strictObject({
  stage: stageName,
  /** Fires the stage once it holds. */
  when: z.string().min(1).max(1_000),
  action: z.enum(['enqueue', 'map']),
  engine: engineName,
  /** The input: a value (`enqueue`), or a list with one task per element (`map`). */
  input: z.string().min(1).max(1_000),
  params: z.record(z.string().min(1).max(128), z.string().max(4_096)).optional(),
});

export const pipelineSchema = z.strictObject({
  type: z.literal('meshbot.pipeline'),
  /** The engine of the first task, run on the `!run`'s input (a named pipeline needs one). */
  start: engineName.optional(),
  stages: z.array(stageSchema).min(1).max(16),
  /** The stage whose output answers the `!run`: an `enqueue` stage. */
  result: stageName,
  /** Each engine's CID, fixed when the pipeline is enqueued, so every node derives the same tasks. */
  engines: z.record(engineName, z.string().min(8).max(200)).optional(),
});

export type Stage = z.infer<typeof stageSchema>;
export type Pipeline = z.infer<typeof pipelineSchema>;

/** The implicit stage: the output of the task that carries the pipeline. */
export const START = 'start';

export interface CheckedStage extends Stage {
  whenCondition: Condition;
  inputCondition: Condition;
}

/** Validates a definition from anywhere (a file, a peer's task); throws ConditionError. */
export function parsePipeline(value: unknown): Pipeline {
  return parseWith(pipelineSchema, value, 'pipeline', (m) => new ConditionError(m));
}

/** Compiles every condition and checks the stage graph. */
export function checkPipeline(p: Pipeline): CheckedStage[] {
  const names = new Set<string>([START]);
  for (const s of p.stages) {
    if (names.has(s.stage)) throw new ConditionError(`stage "${s.stage}" is defined twice`);
    names.add(s.stage);
  }
  const result = p.stages.find((s) => s.stage === p.result);
  if (!result) throw new ConditionError(`the result stage "${p.result}" is not defined`);
  if (result.action !== 'enqueue') {
    throw new ConditionError(`the result stage "${p.result}" must enqueue one task, not map`);
  }
  const checked = p.stages.map((s) => {
    const compile = (what: string, src: string) => {
      try {
        return knownVariablesOnly(
          literalPathsOnly(compileCondition(src, { helpers: PIPELINE_HELPERS })),
        );
      } catch (err) {
        if (!(err instanceof ConditionError)) throw err;
        throw new ConditionError(`stage "${s.stage}", ${what}: ${err.message}`);
      }
    };
    return {
      ...s,
      whenCondition: compile('when', s.when),
      inputCondition: compile('input', s.input),
    };
  });
  checkGraph(checked, names);
  return checked;
}

/**
 * A condition whose paths are all string literals: a computed one (`exist('b' + '')`) would
 * hide the stage it reads from the graph check, and a cycle through it would wait for good.
 */
function literalPathsOnly(c: Condition): Condition {
  const [helper] = c.computedPathReads;
  if (helper === undefined) return c;
  throw new ConditionError(
    `${helper}() is given a computed path; a stage writes each path it reads as a string literal, as in ${helper}('fib'), so the stages it waits on can be checked`,
    { source: c.source },
  );
}

/**
 * A condition that names only the variables a pipeline's conditions have (`task`, the
 * pipeline's own task id: reads.ts `pipelineScope` in node/pipelines.ts): a misspelt one
 * (`tsk`) would otherwise pass, and fail the pipeline only when its stage is evaluated.
 */
function knownVariablesOnly(c: Condition): Condition {
  const unknown = [...c.identifiers].find((name) => !PIPELINE_VARIABLES.includes(name));
  if (unknown === undefined) return c;
  const known = PIPELINE_VARIABLES.map((v) => `"${v}"`).join(', ');
  throw new ConditionError(`unknown variable "${unknown}" (a condition knows ${known})`, {
    source: c.source,
  });
}

/** Every stage reads only defined stages, and none depends on itself. */
function checkGraph(stages: CheckedStage[], names: ReadonlySet<string>): void {
  const reads = new Map<string, Set<string>>();
  for (const s of stages) {
    const r = new Set([...stagesRead(s.whenCondition), ...stagesRead(s.inputCondition)]);
    for (const name of r) {
      if (!names.has(name))
        throw new ConditionError(`stage "${s.stage}" reads "${name}", which no stage writes`);
    }
    reads.set(s.stage, r);
  }
  const done = new Set<string>([START]);
  const visiting: string[] = [];
  const visit = (name: string): void => {
    if (done.has(name)) return;
    if (visiting.includes(name)) {
      const cycle = [...visiting.slice(visiting.indexOf(name)), name].join(' → ');
      throw new ConditionError(`the stages form a cycle: ${cycle}`);
    }
    visiting.push(name);
    for (const next of reads.get(name) ?? []) visit(next);
    visiting.pop();
    done.add(name);
  };
  for (const s of stages) visit(s.stage);
}
