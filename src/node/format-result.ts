import { CID } from 'multiformats/cid';
import type { Completion } from '../protocol/events.ts';
import type { Task } from '../queue/task.ts';
import type { NodeContext } from './context.ts';

const FETCH_MS = 15_000;

/** The reply text for a completion: the output when it is text, else its CID and size. */
export async function formatResult(ctx: NodeContext, task: Task, c: Completion): Promise<string> {
  if (!c.ok || !c.result) {
    return `${task.engine.name} failed: ${c.error?.message ?? 'unknown error'} (${c.error?.code ?? 'ERROR'})`;
  }
  const max = ctx.config.limits.maxReplyChars;
  let bytes: Uint8Array;
  try {
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(FETCH_MS)]);
    bytes = await ctx.store.cat(CID.parse(c.result), { signal, maxBytes: max * 4 });
  } catch {
    return `${task.engine.name} done. Result: ${c.result}`;
  }
  const text = decodeUtf8(bytes);
  if (text === null)
    return `${task.engine.name} done: ${bytes.byteLength} bytes of binary output. Result: ${c.result}`;
  if (text.length === 0) return `${task.engine.name} done (empty output). Result: ${c.result}`;
  const shown = text.length > max ? `${text.slice(0, max)}… (truncated)` : text;
  return `${shown}\n\nresult: ${c.result}`;
}

function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}
