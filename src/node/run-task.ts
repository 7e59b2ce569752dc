import type { CID } from 'multiformats/cid';
import { NotFoundError } from '../errors/index.ts';
import type { Task } from '../queue/task.ts';
import type { NodeContext } from './context.ts';

/** Fetches a task's engine and input, runs it in its sandbox, and stores the output. */
export async function runTask(ctx: NodeContext, task: Task): Promise<CID> {
  // Download: the engine from this node's folder, or from the mesh when its CID is allowed;
  // refused, with the reason, otherwise.
  const ref = { name: task.engine.name, cid: task.engine.cid.toString() };
  const engine = await ctx.runtime.download(ref, { signal: ctx.signal });
  const input = await fetchInput(ctx, task.input);
  const result = await ctx.runtime.run({
    engine,
    input,
    params: task.params,
    signal: ctx.signal,
  });
  return ctx.store.addBytes(result.output);
}

async function fetchInput(ctx: NodeContext, cid: CID): Promise<Uint8Array> {
  const { fetchTimeoutMs, maxInputBytes } = ctx.config.limits;
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(fetchTimeoutMs)]);
  try {
    return await ctx.store.cat(cid, { signal, maxBytes: maxInputBytes });
  } catch (err) {
    if (signal.aborted && !ctx.signal.aborted) {
      throw new NotFoundError(`input ${cid} not found within ${fetchTimeoutMs} ms`, {
        userMessage: `no node in the mesh has ${cid} (looked for ${Math.round(fetchTimeoutMs / 1000)} s)`,
        cause: err,
      });
    }
    throw err;
  }
}
