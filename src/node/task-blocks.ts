import * as dagJson from '@ipld/dag-json';
import type { CID } from 'multiformats/cid';
import type { TaskRecord } from '../coordinator/task-record.ts';
import { parseTask, type Task } from '../queue/task.ts';
import { cidOrUndefined } from '../store/cid.ts';
import type { Store } from '../store/types.ts';

/**
 * The blocks the tasks of a node's books name: each task's own block, its input, its engine
 * package, the task it is a part of, and its result. Garbage collection deletes GOHO blocks
 * only, and none of these is one by design; but a person may run an engine on any block (an
 * old version of a GOHO, one of its leaves) and an engine's output may be any dag-json. So
 * while a book holds a task (pending, or among the answered ones it keeps) what it names
 * stays, with the GOHO blocks it reaches.
 */
export async function taskBlocks(
  records: Iterable<TaskRecord>,
  store: Pick<Store, 'getDag'>,
  opts: { signal?: AbortSignal } = {},
): Promise<CID[]> {
  const out: CID[] = [];
  for (const rec of records) {
    opts.signal?.throwIfAborted();
    const task = await readTask(rec, store, opts.signal);
    const named = [rec.id, rec.result, rec.parent];
    if (task) named.push(task.input.toString(), task.engine.cid.toString());
    for (const s of named) {
      const cid = s === undefined ? undefined : cidOrUndefined(s);
      if (cid) out.push(cid);
    }
  }
  return out;
}

/** The task a record is about: from its block, or once that is dropped, from the store. */
async function readTask(
  rec: TaskRecord,
  store: Pick<Store, 'getDag'>,
  signal?: AbortSignal,
): Promise<Task | undefined> {
  try {
    if (rec.block) return parseTask(dagJson.decode(Buffer.from(rec.block, 'base64')));
    const id = cidOrUndefined(rec.id);
    return id ? parseTask(await store.getDag(id, { offline: true, signal })) : undefined;
  } catch {
    // A task block this node lacks, or a bad one, names nothing more; the id still stays.
    return undefined;
  }
}
