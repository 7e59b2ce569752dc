import { describe, expect, it } from 'vitest';
import { asEventId, asUserId } from '../../../src/ids.ts';
import { mentioningNobody, threadedReply } from '../../../src/matrix/reply.ts';
import type { RoomEvent } from '../../../src/matrix/types.ts';

const event = (id: string, content: Record<string, unknown> = {}): RoomEvent => ({
  type: 'm.room.message',
  event_id: asEventId(id),
  sender: asUserId('@a:x'),
  origin_server_ts: 0,
  content,
});

describe('threaded replies', () => {
  it('start a thread on a message in the main timeline', () => {
    const c = threadedReply(event('$cmd'), 'hi');
    expect(c['m.relates_to']).toEqual({
      rel_type: 'm.thread',
      event_id: '$cmd',
      is_falling_back: true,
      'm.in_reply_to': { event_id: '$cmd' },
    });
  });

  it('stay in the thread of a message that is in one', () => {
    const c = threadedReply(
      event('$cmd', { 'm.relates_to': { rel_type: 'm.thread', event_id: '$root' } }),
      'hi',
    );
    expect(c['m.relates_to']).toMatchObject({
      event_id: '$root',
      'm.in_reply_to': { event_id: '$cmd' },
    });
  });
});

describe("a bot's messages", () => {
  it('mention nobody, edits included, whatever their text says', () => {
    const edit = { msgtype: 'm.notice', body: '* @room', 'm.new_content': { body: '@room' } };
    expect(mentioningNobody(edit)).toEqual({
      ...edit,
      'm.mentions': {},
      'm.new_content': { body: '@room', 'm.mentions': {} },
    });
    // A message that mentions someone on purpose keeps its mentions.
    const aimed = { body: 'hi', 'm.mentions': { user_ids: ['@a:x'] } };
    expect(mentioningNobody(aimed)).toEqual(aimed);
  });
});
