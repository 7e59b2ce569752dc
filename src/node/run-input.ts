/**
 * The input of a `!run`: the CID it names, or the file of the message it replies to. Only
 * the acting coordinator makes tasks of requests, so it alone fetches the file, once, and adds
 * it to its store; workers fetch the blocks from the mesh like those of any input, or the
 * file itself when no node has them (input-fallback.ts). Equal bytes give one CID on every
 * node (store/files.ts): a coordinator that takes a request over after a failover makes the
 * same task, and enqueueing it again is a no-op.
 */
import type { CID } from 'multiformats/cid';
import type { RoomId } from '../ids.ts';
import { NoFileError } from '../matrix/file-errors.ts';
import { ANY_FILE, type FileKind, fileFromMessage } from '../matrix/file-message.ts';
import { repliedTo } from '../matrix/reply.ts';
import type { RuntimeKind } from '../protocol/engines.ts';
import { cidFromString } from '../store/index.ts';
import { AUDIO } from '../whisper/voice.ts';
import type { NodeContext } from './context.ts';

export interface RunInputRequest {
  /** The CID the command names, if it names one. */
  cid?: string;
  /** The command's `m.relates_to`: the message it replies to. */
  relatesTo?: unknown;
  /** The engine that runs first, and its runtime when some node in view described it. */
  engine: string;
  runtime: RuntimeKind | undefined;
}

export async function runInput(
  ctx: Pick<NodeContext, 'client' | 'store' | 'config' | 'signal'>,
  room: RoomId,
  request: RunInputRequest,
): Promise<CID> {
  if (request.cid !== undefined) return cidFromString(request.cid);
  const replied = repliedTo(request.relatesTo);
  // The parser lets a `!run` leave out its CID only in a reply; wrong usage all the same.
  if (!replied) throw new NoFileError('missing arguments');
  const { maxInputBytes, fetchTimeoutMs } = ctx.config.limits;
  return fileFromMessage(ctx, room, replied, kindFor(request), {
    maxBytes: maxInputBytes,
    timeoutMs: fetchTimeoutMs,
    signal: ctx.signal,
  });
}

/**
 * The messages an engine takes its input from: whisper audio, any other engine any file. A
 * package no node in view has described yet (not downloaded) is known by its name alone.
 */
function kindFor(request: RunInputRequest): FileKind {
  const runtime = request.runtime ?? (request.engine === 'whisper' ? 'whisper' : undefined);
  return runtime === 'whisper' ? AUDIO : ANY_FILE;
}
