import { CID } from 'multiformats/cid';
import { decodeInline } from '../blocks/codec.ts';
import type { RoomId } from '../ids.ts';
import type { RoomEvent } from '../matrix/types.ts';
import { type Completion, completeSchema } from '../protocol/events.ts';
import { getTask } from '../queue/task.ts';
import type { NodeContext } from './context.ts';
import { formatResult } from './format-result.ts';
import { Serial } from './serial.ts';
import { ACK } from './submit.ts';

/**
 * Turns completion events into replies to the person who asked. A task is answered once,
 * however many completions (duplicate executions) arrive for it.
 */
export class CompletionHandler {
  readonly #ctx: NodeContext;
  readonly #outstanding: Map<string, string>;
  readonly #answered = new Set<string>();
  /** Replies may need the result's blocks fetched, so they are sent off the sync loop. */
  readonly #replies: Serial;

  constructor(ctx: NodeContext, outstanding: Map<string, string>) {
    this.#ctx = ctx;
    this.#outstanding = outstanding;
    this.#replies = new Serial(ctx.log, 'reply');
  }

  idle(): Promise<void> {
    return this.#replies.idle();
  }

  async onEvent(roomId: RoomId, event: RoomEvent): Promise<void> {
    const { roster, admission, log, store } = this.#ctx;
    if (!admission.isNode(roster.view(roomId), event.sender)) {
      log.warn('completion from a sender that is not a node, ignored', {
        roomId,
        sender: event.sender,
      });
      return;
    }
    const parsed = completeSchema.safeParse(event.content);
    if (!parsed.success) {
      log.warn('invalid complete event dropped', {
        roomId,
        sender: event.sender,
        id: event.event_id,
      });
      return;
    }
    for (const b of parsed.data.blocks) {
      const { cid, bytes } = decodeInline(b);
      await store
        .putBlock(cid, bytes)
        .catch((err: unknown) => log.warn('bad result block', { err }));
    }
    for (const c of parsed.data.completions) {
      // Only the node that assigned the task answers, so a person gets one reply.
      if (!this.#outstanding.has(c.task) || this.#answered.has(c.task)) continue;
      this.#answered.add(c.task);
      this.#outstanding.delete(c.task);
      this.#replies.push(() => this.#answer(roomId, c));
    }
  }

  async #answer(roomId: RoomId, c: Completion): Promise<void> {
    const ctx = this.#ctx;
    const task = await getTask(ctx.store, CID.parse(c.task));
    const request = { event_id: task.request, content: {} } as unknown as RoomEvent;
    const text = await formatResult(ctx, task, c);
    await ctx.client.reply(roomId, request, text);
    await ctx.client.react(roomId, request.event_id, c.ok ? ACK.done : ACK.failed).catch(() => {});
  }
}
