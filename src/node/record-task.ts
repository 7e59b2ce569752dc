import { CID } from 'multiformats/cid';
import { readTaskBlock } from '../coordinator/task-block.ts';
import type { TaskRecord } from '../coordinator/task-record.ts';
import { getTask, type Task } from '../queue/task.ts';
import type { NodeContext } from './context.ts';

const FETCH_MS = 15_000;

/** The task a book record is about: from its block while the book keeps it, else the store. */
export async function recordTask(ctx: NodeContext, rec: TaskRecord): Promise<Task> {
  if (rec.block) return readTaskBlock(rec.id, rec.block);
  const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(FETCH_MS)]);
  return getTask(ctx.store, CID.parse(rec.id), { signal });
}
