import { CID } from 'multiformats/cid';
import { cutText, fitReply, MAX_REPLY_TEXT_BYTES } from '../matrix/reply.ts';
import type { Completion } from '../protocol/events.ts';
import type { Task } from '../queue/task.ts';
import { parseWhisperParams } from '../whisper/params.ts';
import { type ReplyFile, subtitleFiles, transcriptText } from '../whisper/reply.ts';
import { decodeTranscript } from '../whisper/transcript.ts';
import type { NodeContext } from './context.ts';

const FETCH_MS = 15_000;

/** What answers a finished task: the reply text, and files to post in its thread. */
export interface Answer {
  text: string;
  files: ReplyFile[];
}

/**
 * The answer to a completion: the output when it is text (a transcript reads as its words),
 * else its CID and size.
 */
export async function formatResult(ctx: NodeContext, task: Task, c: Completion): Promise<Answer> {
  const plain = (text: string): Answer => ({ text, files: [] });
  if (!c.ok || !c.result) {
    return plain(
      `${task.engine.name} failed: ${c.error?.message ?? 'unknown error'} (${c.error?.code ?? 'ERROR'})`,
    );
  }
  const max = ctx.config.limits.maxReplyChars;
  let bytes: Uint8Array;
  try {
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(FETCH_MS)]);
    // A transcript is JSON with its segments: read enough of it to render the text.
    bytes = await ctx.store.cat(CID.parse(c.result), {
      signal,
      maxBytes: ctx.config.limits.maxInputBytes,
    });
  } catch {
    return plain(`${task.engine.name} done. Result: ${c.result}`);
  }
  const transcript = decodeTranscript(bytes);
  if (transcript) return transcriptAnswer(ctx, task, transcript, c.result);
  const text = decodeUtf8(bytes);
  if (text === null)
    return plain(
      `${task.engine.name} done: ${bytes.byteLength} bytes of binary output. Result: ${c.result}`,
    );
  if (text.length === 0)
    return plain(`${task.engine.name} done (empty output). Result: ${c.result}`);
  // Cut by characters as configured, then to what an event can carry with the CID after it.
  const cut = text.length > max ? `${cutText(text, max)}… (truncated)` : text;
  const shown = fitReply(cut, MAX_REPLY_TEXT_BYTES - 1_000);
  return plain(`${shown}\n\nresult: ${c.result}`);
}

function transcriptAnswer(
  ctx: NodeContext,
  task: Task,
  t: NonNullable<ReturnType<typeof decodeTranscript>>,
  result: string,
): Answer {
  let timestamps = false;
  try {
    timestamps = parseWhisperParams(task.params, ctx.config.whisper.defaultModel).timestamps;
  } catch {
    // The worker accepted these parameters; the reply reads them only for layout.
  }
  const text = transcriptText(t, { timestamps, maxChars: ctx.config.limits.maxReplyChars });
  const files = subtitleFiles(t, ctx.config.whisper.subtitlesAboveSeconds * 1000);
  return { text: `${text}\nresult: ${result}`, files };
}

function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}
