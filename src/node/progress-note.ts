/**
 * Progress of long work, in the request's thread: one notice, edited in place as the work goes
 * on ("whisper: 40%", "fetching model base: 35% of 142 MB"), and a last edit when it ends.
 * Nothing is posted for work that ends within `mesh.progressAfterMs`, edits come at most every
 * `mesh.progressEveryMs`, and each is best effort: under a rate limit work goes first.
 */
import type { EventId, RoomId } from '../ids.ts';
import { type ReplyTarget, threadOf } from '../matrix/reply.ts';
import { PROGRESS_TAG } from '../protocol/manager.ts';
import type { NodeContext } from './context.ts';

export class ProgressNote {
  readonly #ctx: NodeContext;
  readonly #room: RoomId;
  /** The thread the note goes in: the request's, or one on the request. */
  readonly #thread: string;
  readonly #task: string;
  readonly #started = Date.now();
  #text: string | undefined;
  #shown: string | undefined;
  #note: EventId | undefined;
  #lastSent = 0;
  #sending = false;
  #timer: NodeJS.Timeout | undefined;
  #ended = false;

  constructor(ctx: NodeContext, room: RoomId, request: ReplyTarget, task: string) {
    this.#ctx = ctx;
    this.#room = room;
    this.#thread = threadOf(request.relatesTo) ?? request.id;
    this.#task = task;
  }

  /** The work's state now; shown when it is due. */
  update(text: string): void {
    if (this.#ended) return;
    this.#text = text;
    this.#schedule();
  }

  /** The work ended: a note already shown gets its last edit; none is posted now. */
  finish(text: string): void {
    this.#ended = true;
    clearTimeout(this.#timer);
    if (!this.#note && !this.#sending) return;
    this.#text = text;
    void this.#flushWhenFree();
  }

  /** The node left the room: it ends without a last edit (the room would refuse it). */
  drop(): void {
    this.#ended = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#timer || this.#sending) return;
    const { progressAfterMs, progressEveryMs } = this.#ctx.config.mesh;
    // After a first notice that failed, the next try waits like an edit would.
    const first = this.#note ? 0 : this.#started + progressAfterMs;
    const due = Math.max(first, this.#lastSent + progressEveryMs);
    this.#timer = setTimeout(
      () => {
        this.#timer = undefined;
        void this.#flush();
      },
      Math.max(0, due - Date.now()),
    );
    this.#timer.unref();
  }

  async #flushWhenFree(): Promise<void> {
    while (this.#sending) await new Promise((r) => setTimeout(r, 50));
    // The first notice never made it: no end notice on its own either.
    if (this.#note) await this.#flush();
  }

  async #flush(): Promise<void> {
    const text = this.#text;
    if (text === undefined || text === this.#shown || this.#sending) return;
    if (this.#ctx.signal.aborted) return;
    this.#sending = true;
    try {
      if (this.#note) await this.#edit(this.#note, text);
      else this.#note = await this.#post(text);
      this.#shown = text;
    } catch {
      // Best effort: a note the rate limit left no room for is simply not shown.
    } finally {
      this.#sending = false;
      this.#lastSent = Date.now();
    }
    if (!this.#ended && this.#text !== this.#shown) this.#schedule();
  }

  async #post(text: string): Promise<EventId> {
    const content = {
      msgtype: 'm.notice',
      body: text,
      'm.relates_to': { rel_type: 'm.thread', event_id: this.#thread },
      [PROGRESS_TAG]: { task: this.#task },
    };
    return this.#ctx.client.sendCosmetic
      ? this.#ctx.client.sendCosmetic(this.#room, 'm.room.message', content)
      : this.#ctx.client.send(this.#room, 'm.room.message', content, this.#ctx.signal);
  }

  async #edit(note: EventId, text: string): Promise<void> {
    const content = {
      msgtype: 'm.notice',
      body: `* ${text}`,
      'm.new_content': { msgtype: 'm.notice', body: text },
      'm.relates_to': { rel_type: 'm.replace', event_id: note },
      [PROGRESS_TAG]: { task: this.#task },
    };
    if (this.#ctx.client.sendCosmetic) {
      await this.#ctx.client.sendCosmetic(this.#room, 'm.room.message', content);
    } else await this.#ctx.client.send(this.#room, 'm.room.message', content, this.#ctx.signal);
  }
}
