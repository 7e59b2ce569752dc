import type { Needs } from '../coordinator/match.ts';
import { readTaskBlock } from '../coordinator/task-block.ts';
import type { TaskRecord } from '../coordinator/task-record.ts';
import type { NodeContext } from './context.ts';

const cache = new Map<string, Needs | null>();
const CACHE_MAX = 5_000;

/**
 * What a queued task needs from a node: its exact engine package, and the memory its
 * manifest asks for when this node knows that package. Null for an unreadable block.
 */
export function needsOf(ctx: NodeContext, rec: TaskRecord): Needs | null {
  const known = cache.get(rec.id);
  if (known !== undefined) return known;
  let needs: Needs | null = null;
  try {
    if (rec.block) {
      const task = readTaskBlock(rec.id, rec.block);
      const engineCid = task.engine.cid.toString();
      needs = { engine: task.engine.name, engineCid };
      const own = ctx.engines.get(task.engine.name);
      if (own?.cid === engineCid) needs.memoryMb = own.manifest.limits.memoryMb;
    }
  } catch {
    needs = null;
  }
  cache.set(rec.id, needs);
  if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value as string);
  return needs;
}
