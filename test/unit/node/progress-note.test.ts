/**
 * Progress notices: nothing for quick work; for long work one notice in the request's thread,
 * edited in place no more often than allowed, and a last edit when the work ends.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
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

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await sleep(10);
  expect(done()).toBe(true);
}

const note = (ctx: NodeContext) =>
  new ProgressNote(ctx, '!r:x' as RoomId, { id: '$request' }, 'bafytask');

describe('progress notices', () => {
  it('shows nothing for work that ends before it is due', async () => {
    const { ctx, sent } = fakeContext(200, 50);
    const n = note(ctx);
    n.update('wordcount: 50%');
    n.finish('wordcount: done after 0 s');
    await sleep(300);
    expect(sent).toEqual([]);
  });

  it('posts once in the thread, edits it at most every so often, and edits it at the end', async () => {
    const { ctx, sent } = fakeContext(20, 150);
    const n = note(ctx);
    n.update('whisper: 10%');
    await until(() => sent.length === 1);
    const posted = Date.now();
    for (const pct of [20, 30, 40]) n.update(`whisper: ${pct}%`);
    await until(() => sent.length === 2);
    expect(Date.now() - posted).toBeGreaterThanOrEqual(140);
    n.finish('whisper: done after 1 s');
    await until(() => sent.length === 3);
    expect(sent[0]).toEqual({ body: 'whisper: 10%', thread: '$request' });
    // The three updates within one interval became one edit, with the newest text.
    expect(sent[1]).toEqual({ body: 'whisper: 40%', edits: '$note1' });
    expect(sent[2]).toEqual({ body: 'whisper: done after 1 s', edits: '$note1' });
    await sleep(200);
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
    await sleep(350);
    n.finish('wordcount: done');
    // About 10, 110, 210, 310 ms: a handful of tries, not hundreds.
    expect(tries).toBeGreaterThanOrEqual(2);
    expect(tries).toBeLessThanOrEqual(5);
  });
});
