import { CID } from 'multiformats/cid';
import type { TaskRecord } from '../coordinator/task-record.ts';
import { reasons } from '../coordinator/task-record.ts';
import { fitReply, type ReplyTarget, replyRelation, threadedReply } from '../matrix/reply.ts';
import type { RoomEvent } from '../matrix/types.ts';
import { REPLY_TAG, type ReplyTag } from '../protocol/manager.ts';
import { getTask } from '../queue/task.ts';
import type { ReplyFile } from '../whisper/reply.ts';
import type { NodeContext } from './context.ts';
import { type Answer, formatResult } from './format-result.ts';
import type { MeshRoom } from './mesh-room.ts';
import { Serial } from './serial.ts';

/** The longest wait before an answer the homeserver refused is tried again. */
const MAX_ANSWER_WAIT_MS = 5 * 60_000;

/** Emoji reactions that show a request's state. */
export const ACK = { accepted: '👀', done: '✅', failed: '❌' } as const;

/** Where the replies about a task go: to its request, in the thread it was posted in. */
export function requestOf(task: { request: string; thread?: string }): ReplyTarget {
  const relatesTo = task.thread ? { rel_type: 'm.thread', event_id: task.thread } : undefined;
  return { id: task.request, relatesTo };
}

/**
 * Sends a tagged threaded reply: every node that sees it marks the request handled (and the
 * task answered), so no later coordinator answers it again.
 */
export async function sendReply(
  ctx: NodeContext,
  room: MeshRoom,
  to: ReplyTarget,
  text: string,
  tag: ReplyTag = {},
): Promise<void> {
  const event = {
    event_id: to.id,
    content: { 'm.relates_to': to.relatesTo },
  } as unknown as RoomEvent;
  const content = { ...threadedReply(event, fitReply(text)), [REPLY_TAG]: tag };
  try {
    await ctx.client.send(room.id, 'm.room.message', content, ctx.signal);
  } catch (err) {
    // A thread the homeserver will not have: one rooted on a message that relates to another
    // (a request of a task made before tasks kept their thread). A plain reply, then.
    if ((err as { statusCode?: unknown })?.statusCode !== 400) throw err;
    ctx.log.warn('a threaded reply was refused; replying outside the thread', {
      request: to.id,
      err,
    });
    const plain = { ...content, 'm.relates_to': { 'm.in_reply_to': { event_id: to.id } } };
    await ctx.client.send(room.id, 'm.room.message', plain, ctx.signal);
  }
}

/** A notice to the whole room (not a reply): something every member should know. */
export async function sendNotice(ctx: NodeContext, room: MeshRoom, text: string): Promise<void> {
  await ctx.client.send(room.id, 'm.room.message', { msgtype: 'm.notice', body: text }, ctx.signal);
}

/**
 * Files that belong to an answer (a transcript's subtitles), uploaded to the media repository
 * and posted in the request's thread. Best effort: the reply itself already went out.
 */
export async function sendFiles(
  ctx: NodeContext,
  room: MeshRoom,
  request: ReplyTarget,
  files: ReplyFile[],
): Promise<void> {
  for (const f of files) {
    try {
      const url = await ctx.client.upload(f.bytes, f.mimetype, ctx.signal);
      const content = {
        msgtype: 'm.file',
        body: f.name,
        filename: f.name,
        url,
        info: { mimetype: f.mimetype, size: f.bytes.byteLength },
        'm.relates_to': replyRelation(request),
      };
      await ctx.client.send(room.id, 'm.room.message', content, ctx.signal);
    } catch (err) {
      if (!ctx.signal.aborted)
        ctx.log.warn('could not post a file with an answer', { file: f.name, err });
    }
  }
}

/**
 * The acting coordinator's answers: one reply per finished task, to the `!run` that asked.
 * Checked against the lease right before sending, so a coordinator that lost its lease
 * leaves the answer to the next one (which sees this one's reply, if it went out, and
 * stays quiet).
 */
export class Answers {
  readonly #ctx: NodeContext;
  readonly #inFlight = new Set<string>();
  readonly #queue: Serial;
  readonly #now: () => number;
  /** Answers that failed to go out: when to try again, and how many times they failed. */
  readonly #later = new Map<string, { at: number; failures: number; room: string }>();

  constructor(ctx: NodeContext, opts: { now?: () => number } = {}) {
    this.#ctx = ctx;
    this.#queue = new Serial(ctx.log, 'answer');
    this.#now = opts.now ?? Date.now;
  }

  idle(): Promise<void> {
    return this.#queue.idle();
  }

  /**
   * Answers every final task nobody answered yet. An answer the homeserver refused is tried
   * again at the coordinator's next look at the room after a wait that doubles with each
   * failure, from 1 s up to 5 minutes: the coordinator looks at a busy room many times a
   * second, and would repeat a refused send as often.
   */
  answerAll(room: MeshRoom): void {
    const now = this.#now();
    const unanswered = room.book.unanswered();
    // Answered meanwhile (by another node) or gone: nothing to try again.
    const open = new Set(unanswered.map((r) => r.id));
    for (const [id, l] of this.#later)
      if (l.room === room.id && !open.has(id)) this.#later.delete(id);
    for (const rec of unanswered) {
      if (this.#inFlight.has(rec.id) || (this.#later.get(rec.id)?.at ?? 0) > now) continue;
      this.#inFlight.add(rec.id);
      this.#queue.push(async () => {
        try {
          await this.#answer(room, rec);
          this.#later.delete(rec.id);
        } catch (err) {
          this.#failed(room, rec, err);
        } finally {
          this.#inFlight.delete(rec.id);
        }
      });
    }
  }

  #failed(room: MeshRoom, rec: TaskRecord, err: unknown): void {
    const failures = (this.#later.get(rec.id)?.failures ?? 0) + 1;
    const waitMs = Math.min(MAX_ANSWER_WAIT_MS, 1000 * 2 ** (failures - 1));
    this.#later.set(rec.id, { at: this.#now() + waitMs, failures, room: room.id });
    if (this.#ctx.signal.aborted) return;
    this.#ctx.log.warn('could not answer; trying again later', {
      task: rec.id,
      request: rec.request,
      failures,
      waitMs,
      err,
    });
  }

  async #answer(room: MeshRoom, rec: TaskRecord): Promise<void> {
    const ctx = this.#ctx;
    if (rec.answered || !room.election.acting()) return;
    const { text, files } = await this.#text(rec);
    if (rec.answered || !room.election.acting()) return;
    const state =
      rec.state === 'done' ? 'done' : rec.state === 'cancelled' ? 'cancelled' : 'failed';
    const tag = {
      task: rec.id,
      state,
      ...(rec.result && state === 'done' ? { result: rec.result } : {}),
    } as const;
    await sendReply(ctx, room, requestOf(rec), text, tag);
    room.book.answered(rec.id, state, Date.now());
    room.changed();
    void sendFiles(ctx, room, requestOf(rec), files);
  }

  async #text(rec: TaskRecord): Promise<Answer> {
    const ctx = this.#ctx;
    const plain = (text: string): Answer => ({ text, files: [] });
    if (rec.state === 'cancelled')
      return plain(`${rec.engine}: ${rec.error?.message ?? 'cancelled'}`);
    if (rec.state !== 'done' || !rec.result) {
      const all = rec.failures.length > 1 ? `\nattempts: ${reasons(rec)}` : '';
      return plain(
        `${rec.engine} failed: ${rec.error?.message ?? 'unknown error'} (${rec.error?.code ?? 'ERROR'})${all}`,
      );
    }
    try {
      const cid = CID.parse(rec.id);
      if (rec.block) await ctx.store.putBlock(cid, Buffer.from(rec.block, 'base64'));
      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(10_000)]);
      const task = await getTask(ctx.store, cid, { signal });
      const completion = { task: rec.id, attempt: rec.attempt, ok: true, result: rec.result };
      const answer = await formatResult(ctx, task, completion);
      const v = rec.verified;
      if (v && v.of > 1) answer.text += `\nverified: ${v.agreeing} of ${v.of} nodes agreed on it`;
      else if (v) answer.text += '\nnot verified: no other node could run it';
      else if ((task.replicas ?? 1) > 1) {
        // The Verifier checks plain tasks; this one was split into parts (a long recording).
        answer.text += '\nnot verified: it was split into parts, which replicas= does not reach';
      }
      return answer;
    } catch {
      return plain(`${rec.engine} done. Result: ${rec.result}`);
    }
  }
}
