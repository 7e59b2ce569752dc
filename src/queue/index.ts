export {
  type Assignment,
  assignmentSchema,
  type Completion,
  completionSchema,
  type Outcome,
  outcomeSchema,
  PATHS,
} from './entries.ts';
export { createQueue, type Queue, type QueueOptions, type TaskStatus } from './queue.ts';
export { getTask, parseTask, putTask, type Task, taskCid, taskId, taskSchema } from './task.ts';
export { type QueueView, viewOf } from './view.ts';
