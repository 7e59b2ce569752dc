import { describe, expect, it } from 'vitest';
import { fillGap } from '../../../src/matrix/backfill.ts';
import type { RoomEvent } from '../../../src/matrix/types.ts';

const ev = (n: number) => ({ event_id: `$${n}`, type: 'm.room.message' }) as unknown as RoomEvent;

describe('back-filling a gappy sync', () => {
  it('fetches the gap back to the last sync position, page by page, oldest first', async () => {
    const pages: Record<string, { chunk: RoomEvent[]; end?: string }> = {
      prev: { chunk: [ev(9), ev(8), ev(7)], end: 'p2' },
      p2: { chunk: [ev(6), ev(5)], end: 'p3' },
      p3: { chunk: [] },
    };
    const asked: Record<string, unknown>[] = [];
    const get = async (_path: string, qs: Record<string, unknown>) => {
      asked.push(qs);
      return pages[qs.from as string];
    };
    const room = { timeline: { limited: true, prev_batch: 'prev', events: [ev(10)] } };
    const { events, complete } = await fillGap(get, '!r:x', room, 'since');
    expect(events.map((e) => e.event_id)).toEqual(['$5', '$6', '$7', '$8', '$9']);
    expect(complete).toBe(true);
    expect(asked[0]).toMatchObject({ dir: 'b', from: 'prev', to: 'since' });
  });

  it('leaves a sync that was not limited alone', async () => {
    const get = async () => {
      throw new Error('not called');
    };
    const room = { timeline: { limited: false, prev_batch: 'prev', events: [ev(1)] } };
    expect(await fillGap(get, '!r:x', room, 'since')).toEqual({ events: [], complete: true });
  });
});
