/**
 * What of a command's `m.relates_to` waits with it in the request log: what threads and
 * replies are read from, and nothing else (a client may fill it with up to 64 KB).
 */
import { describe, expect, it } from 'vitest';
import { keptRelation, repliedTo, threadOf } from '../../../src/matrix/reply.ts';

const padding = 'x'.repeat(60_000);

describe('keptRelation', () => {
  it.each([
    [
      'a threaded reply',
      {
        rel_type: 'm.thread',
        event_id: '$root',
        is_falling_back: true,
        'm.in_reply_to': { event_id: '$last' },
      },
    ],
    [
      'a reply in a thread',
      {
        rel_type: 'm.thread',
        event_id: '$root',
        is_falling_back: false,
        'm.in_reply_to': { event_id: '$file' },
      },
    ],
    ['a thread message with no reply', { rel_type: 'm.thread', event_id: '$root' }],
    ['a plain reply', { 'm.in_reply_to': { event_id: '$file' } }],
  ])('keeps %s as threads and replies read it, without the rest', (_what, relation) => {
    const reply = (relation as { 'm.in_reply_to'?: object })['m.in_reply_to'];
    const padded = {
      ...relation,
      junk: padding,
      ...(reply ? { 'm.in_reply_to': { ...reply, junk: padding } } : {}),
    };
    const kept = keptRelation(padded);
    expect(threadOf(kept)).toBe(threadOf(relation));
    expect(repliedTo(kept)).toBe(repliedTo(relation));
    expect(JSON.stringify(kept).length).toBeLessThan(300);
  });

  it('keeps nothing of what is no relation', () => {
    expect(keptRelation(undefined)).toBeUndefined();
    expect(keptRelation('m.thread')).toBeUndefined();
    expect(keptRelation({ junk: padding })).toBeUndefined();
  });
});
