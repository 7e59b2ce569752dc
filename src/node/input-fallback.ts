/**
 * A task's input when no node in the mesh has it: the file of a `!run` sent in reply to a
 * file. The coordinator that fetched it from the homeserver held it alone until a worker
 * fetched it from the mesh; if that coordinator went away first, the worker does what it
 * did: reads the request, fetches the file it replied to from the homeserver, and adds it
 * to its store. It takes the file only if its CID is the task's input (equal bytes give one
 * CID on every node, store/files.ts), so neither a changed file nor another request's
 * reaches the engine.
 */
import type { EventId, RoomId } from '../ids.ts';
import { ANY_FILE, fileFromMessage } from '../matrix/file-message.ts';
import { repliedTo } from '../matrix/reply.ts';
import type { Task } from '../queue/task.ts';
import type { NodeContext } from './context.ts';

/** The input's bytes from the request's file, or undefined when that cannot give them. */
export async function inputFromRequestFile(
  ctx: Pick<NodeContext, 'client' | 'store' | 'config' | 'log'>,
  task: Task,
  signal: AbortSignal,
): Promise<Uint8Array | undefined> {
  // A split part's input is its parent's plan's, not the request's (a replica's is its
  // task's, which is the request's).
  const part = task.parent !== undefined && task.replica === undefined;
  if (part || !ctx.client.getEvent) return undefined;
  const room = task.room as RoomId;
  const { maxInputBytes, fetchTimeoutMs } = ctx.config.limits;
  const log = ctx.log.child({ request: task.request, input: task.input.toString() });
  try {
    const request = await ctx.client.getEvent(room, task.request as EventId);
    const replied = repliedTo(request.content['m.relates_to']);
    if (replied === undefined) return undefined;
    const cid = await fileFromMessage(ctx, room, replied, ANY_FILE, {
      maxBytes: maxInputBytes,
      timeoutMs: fetchTimeoutMs,
      signal,
    });
    if (!cid.equals(task.input)) {
      log.warn('the file the request replies to is not the task input', { file: `${cid}` });
      return undefined;
    }
    log.info('no node had the input: fetched it from the homeserver, from the request file');
    return await ctx.store.cat(cid, { offline: true, maxBytes: maxInputBytes, signal });
  } catch (err) {
    if (signal.aborted) throw err;
    log.warn('could not fetch the input from the request file', { err });
    return undefined;
  }
}
