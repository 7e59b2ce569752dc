import * as dagJson from '@ipld/dag-json';
import { parseTask, type Task } from '../queue/task.ts';
import { cidFromString, verifyBlock } from '../store/index.ts';
import type { TaskInfo } from './task-record.ts';

/**
 * A task block carried in a Manager event, checked against the task id it claims to be:
 * its bytes must hash to the CID, and it must be a valid task. Throws BadInputError (or a
 * corrupt-block error) for anything a hostile sender could put there.
 */
export function readTaskBlock(id: string, base64: string): Task {
  const cid = cidFromString(id);
  const bytes = Buffer.from(base64, 'base64');
  verifyBlock(cid, bytes);
  return parseTask(dagJson.decode(bytes));
}

/** What the book keeps of a task block. */
export function taskInfo(task: Task): TaskInfo {
  const info: TaskInfo = {
    request: task.request,
    submitter: task.submitter,
    engine: task.engine.name,
  };
  if (task.thread) info.thread = task.thread;
  if (task.parent) info.parent = task.parent.toString();
  if (task.pipeline) info.pipeline = true;
  return info;
}
