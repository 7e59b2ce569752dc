/**
 * The input of a `!run`: the CID it names, or the file of the message it replies to. Only
 * the acting coordinator makes tasks of requests, so it alone fetches the file, once, and adds
 * it to its store; workers fetch the blocks from the mesh like those of any input. Equal
 * bytes give one CID on every node (store/files.ts): a coordinator that takes a request over
 * after a failover makes the same task, and enqueueing it again is a no-op.
 */
import type { CID } from 'multiformats/cid';
import { BadInputError } from '../errors/index.ts';
import type { RoomId } from '../ids.ts';
import { fileFromMessage } from '../matrix/file-message.ts';
import { repliedTo } from '../matrix/reply.ts';
import { cidFromString } from '../store/index.ts';
import { AUDIO } from '../whisper/voice.ts';
import type { NodeContext } from './context.ts';

export interface RunInputRequest {
  /** The CID the command names, if it names one. */
  cid?: string;
  /** The command's `m.relates_to`: the message it replies to. */
  relatesTo?: unknown;
}

export async function runInput(
  ctx: Pick<NodeContext, 'client' | 'store' | 'config' | 'signal'>,
  room: RoomId,
  request: RunInputRequest,
): Promise<CID> {
  if (request.cid !== undefined) return cidFromString(request.cid);
  const replied = repliedTo(request.relatesTo);
  if (!replied) throw new BadInputError('name the input CID, or reply to a voice message');
  const { maxInputBytes, fetchTimeoutMs } = ctx.config.limits;
  return fileFromMessage(ctx, room, replied, AUDIO, {
    maxBytes: maxInputBytes,
    timeoutMs: fetchTimeoutMs,
    signal: ctx.signal,
  });
}
