/**
 * The pipeline a `!run` asks for: a named one (`!run fibsum <cid>`), or a definition added to
 * the mesh like any file (`!run <engine> <cid> pipeline=<cid of a definition>`). It is checked
 * here, at enqueue, so a bad condition gets its reply before anything runs; each engine it
 * names is fixed to a CID the mesh offers, so every node derives the same tasks from it.
 */
import type { CID } from 'multiformats/cid';
import { BadInputError, TimeoutError } from '../errors/index.ts';
import { checkPipeline, type Pipeline, parsePipeline } from '../evaluator/pipeline.ts';
import { seconds } from '../matrix/file-message.ts';
import type { NodeState } from '../protocol/events.ts';
import { cidFromString } from '../store/index.ts';
import type { NodeContext } from './context.ts';
import { resolveEngine } from './resolve-engine.ts';

/** A definition travels inside every assignment of its first task: it must stay small. */
const MAX_DEFINITION_BYTES = 16 * 1024;

export interface PipelineRequest {
  /** The engine of the first task. */
  engine: string;
  pipeline?: Pipeline;
  params: Record<string, string>;
}

export async function pipelineRequest(
  ctx: NodeContext,
  engine: string,
  params: Record<string, string>,
): Promise<PipelineRequest> {
  const named = ctx.pipelines?.get(engine);
  const { pipeline: ref, ...rest } = params;
  if (named && ref !== undefined) {
    throw new BadInputError(`${engine} is a pipeline already; pipeline= is for engines`);
  }
  if (named) return { engine: named.start ?? engine, pipeline: named, params: rest };
  if (ref === undefined) return { engine, params };
  const pipeline = await fetchDefinition(ctx, cidFromString(ref));
  return { engine, pipeline, params: rest };
}

async function fetchDefinition(ctx: NodeContext, cid: CID): Promise<Pipeline> {
  const { fetchTimeoutMs } = ctx.config.limits;
  const deadline = AbortSignal.timeout(fetchTimeoutMs);
  const signal = AbortSignal.any([ctx.signal, deadline]);
  let bytes: Uint8Array;
  try {
    bytes = await ctx.store.cat(cid, { signal, maxBytes: MAX_DEFINITION_BYTES });
  } catch (err) {
    // The store rethrows the caller's abort as it is; a user is owed which limit it was.
    if (deadline.aborted && !ctx.signal.aborted) {
      throw new TimeoutError(`pipeline ${cid} not fetched within ${fetchTimeoutMs} ms`, {
        cause: err,
        userMessage: `the pipeline ${cid} could not be fetched from the mesh within ${seconds(fetchTimeoutMs)}`,
      });
    }
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new BadInputError(`the pipeline ${cid} is not JSON`);
  }
  const pipeline = parsePipeline(json);
  checkPipeline(pipeline);
  return pipeline;
}

/** Fixes the CID of every engine the pipeline's stages name; refuses one no node runs. */
export function fixEngines(
  ctx: NodeContext,
  pipeline: Pipeline,
  states: readonly NodeState[],
): Pipeline {
  const engines: Record<string, string> = {};
  for (const name of new Set(pipeline.stages.map((s) => s.engine))) {
    try {
      engines[name] = resolveEngine(ctx, name, states).cid;
    } catch (err) {
      throw new BadInputError(`the pipeline needs ${name}: ${(err as Error).message}`);
    }
  }
  return { ...pipeline, engines };
}
