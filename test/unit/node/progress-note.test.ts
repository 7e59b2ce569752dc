/**
 * Progress notices: nothing for quick work; for long work one notice in the request's thread,
 * edited in place no more often than allowed, and a last edit when the work ends.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { EventId, RoomId } from '../../../src/ids.ts';
import type { NodeContext } from '../../../src/node/context.ts';
import { ProgressNote } from '../../../src/node/progress-note.ts';
import { PROGRESS_TAG } from '../../../src/protocol/manager.ts';

interface Sent {
  body: string;
  edits?: string;
  thread?: string;
}

function fakeContext(afterMs: number, everyMs: number): { ctx: NodeContext; sent: Sent[] } {
  const sent: Sent[] = [];
  const client = {
    async sendCosmetic(_room: RoomId, _type: string, content: Record<string, unknown>) {
      const rel = content['m.relates_to'] as { rel_type: string; event_id: string };
      expect(content[PROGRESS_TAG]).toEqual({ task: 'bafytask' });
      const newContent = content['m.new_content'] as { body: string } | undefined;
      sent.push(
        rel.rel_type === 'm.replace'
          ? { body: newContent?.body ?? '', edits: rel.event_id }
          : { body: String(content.body), thread: rel.event_id },
      );
      return `$note${sent.length}` as EventId;
    },
  };
  const config = { mesh: { progressAfterMs: afterMs, progressEveryMs: everyMs } };
  const ctx = { client, config, signal: new AbortController().signal } as unknown as NodeContext;
  return { ctx, sent };
}

// The note's clock (Date.now, setTimeout) is faked: what is checked is when it sends, by its
// own clock, whatever the load of the machine.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** Lets `ms` of the note's time pass, and what it sends meanwhile settle. */
const pass = (ms: number) => vi.advanceTimersByTimeAsync(ms);

const note = (ctx: NodeContext) =>
  new ProgressNote(ctx, '!r:x' as RoomId, { id: '$request' }, 'bafytask');

describe('progress notices', () => {
  it('shows nothing for work that ends before it is due', async () => {
    const { ctx, sent } = fakeContext(200, 50);
    const n = note(ctx);
    n.update('wordcount: 50%');
    await pass(199);
    n.finish('wordcount: done after 0 s');
    await pass(1_000);
    expect(sent).toEqual([]);
  });

  it('posts once in the thread, edits it at most every so often, and edits it at the end', async () => {
    const { ctx, sent } = fakeContext(20, 150);
    const n = note(ctx);
    n.update('whisper: 10%');
    await pass(19);
    expect(sent).toEqual([]);
    await pass(1);
    expect(sent).toHaveLength(1);
    for (const pct of [20, 30, 40]) n.update(`whisper: ${pct}%`);
    // No edit before the interval since the notice is over.
    await pass(149);
    expect(sent).toHaveLength(1);
    await pass(1);
    expect(sent).toHaveLength(2);
    n.finish('whisper: done after 1 s');
    await pass(0);
    expect(sent).toHaveLength(3);
    expect(sent[0]).toEqual({ body: 'whisper: 10%', thread: '$request' });
    // The three updates within one interval became one edit, with the newest text.
    expect(sent[1]).toEqual({ body: 'whisper: 40%', edits: '$note1' });
    expect(sent[2]).toEqual({ body: 'whisper: done after 1 s', edits: '$note1' });
    await pass(1_000);
    expect(sent).toHaveLength(3);
  });

  it('retries a first notice that failed at the edit interval, not in a loop', async () => {
    let tries = 0;
    const client = {
      async sendCosmetic(): Promise<EventId> {
        tries++;
        throw new Error('M_FORBIDDEN');
      },
    };
    const config = { mesh: { progressAfterMs: 10, progressEveryMs: 100 } };
    const ctx = { client, config, signal: new AbortController().signal } as unknown as NodeContext;
    const n = note(ctx);
    n.update('wordcount: 10%');
    await pass(350);
    n.finish('wordcount: done');
    await pass(1_000);
    // At 10, 110, 210 and 310 ms: one try per edit interval, not hundreds; none after the end.
    expect(tries).toBe(4);
  });
});
