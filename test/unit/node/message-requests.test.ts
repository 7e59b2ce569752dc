/**
 * An edit into a command is told apart from other edits; a voice message's request keeps its
 * thread; what a message in a thread replies to.
 */
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../../src/commands/parse.ts';
import type { EventId, UserId } from '../../../src/ids.ts';
import { ownText, repliedTo, threadOf } from '../../../src/matrix/reply.ts';
import type { RoomEvent } from '../../../src/matrix/types.ts';
import { CoordinatorRole } from '../../../src/node/coordinator-role.ts';
import { autoRelation, editedCommand } from '../../../src/node/message-requests.ts';
import { fakeRoom } from '../../support/fake-room.ts';

const message = (content: Record<string, unknown>): RoomEvent => ({
  type: 'm.room.message',
  event_id: '$e' as EventId,
  sender: '@alice:hs' as UserId,
  origin_server_ts: 0,
  content,
});
const edit = (body: unknown, rel: unknown = { rel_type: 'm.replace', event_id: '$orig' }) =>
  message({ body: `* ${body}`, 'm.new_content': { body }, 'm.relates_to': rel });

describe('editedCommand', () => {
  it('names the message an edit makes a command', () => {
    expect(editedCommand(edit('!run wordcount bafy'))).toBe('$orig');
    expect(editedCommand(edit('!run'))).toBe('$orig');
  });

  it('is undefined for an edit into chat, or one that is not a valid edit', () => {
    expect(editedCommand(edit('just chat'))).toBeUndefined();
    expect(editedCommand(edit(42))).toBeUndefined();
    expect(editedCommand(edit('!run x', { rel_type: 'm.thread', event_id: '$t' }))).toBeUndefined();
    expect(editedCommand(edit('!run x', { rel_type: 'm.replace' }))).toBeUndefined();
  });
});

describe('autoRelation', () => {
  it('replies to the voice message, in its thread when it is in one', () => {
    const plain = autoRelation(message({ msgtype: 'm.audio' }));
    expect(threadOf(plain)).toBeUndefined();
    expect(repliedTo(plain)).toBe('$e');
    const inThread = autoRelation(
      message({ msgtype: 'm.audio', 'm.relates_to': { rel_type: 'm.thread', event_id: '$root' } }),
    );
    expect(threadOf(inThread)).toBe('$root');
    expect(repliedTo(inThread)).toBe('$e');
  });
});

describe('repliedTo', () => {
  it("takes a thread's fallback reply as one to the thread's root", () => {
    const thread = { rel_type: 'm.thread', event_id: '$voice' };
    const fallback = { ...thread, is_falling_back: true, 'm.in_reply_to': { event_id: '$latest' } };
    expect(repliedTo(fallback)).toBe('$voice');
    // A real reply in the thread, and a reply outside threads, name what they reply to.
    const real = { ...thread, is_falling_back: false, 'm.in_reply_to': { event_id: '$other' } };
    expect(repliedTo(real)).toBe('$other');
    expect(repliedTo({ 'm.in_reply_to': { event_id: '$x' } })).toBe('$x');
    expect(repliedTo({ 'm.in_reply_to': { event_id: 'not an id' } })).toBeUndefined();
    expect(repliedTo(undefined)).toBeUndefined();
  });

  it("takes a message in a thread with no reply at all as one to the thread's root", () => {
    // Some clients send only the thread relation: a `!run` in a file's thread names the file.
    expect(repliedTo({ rel_type: 'm.thread', event_id: '$voice' })).toBe('$voice');
    expect(repliedTo({ rel_type: 'm.thread', event_id: 'not an id' })).toBeUndefined();
  });
});

describe('a reply that quotes what it replies to (the reply fallback of older clients)', () => {
  const quoted = (body: string) =>
    message({ body, 'm.relates_to': { 'm.in_reply_to': { event_id: '$voice' } } });

  it('is read without the quote', () => {
    const content = quoted('> <@bob:hs> Voice message\n> second line\n\n!run whisper').content;
    expect(ownText(content)).toBe('!run whisper');
    // Not a reply: a message that starts with a quote is left as it is.
    expect(ownText({ body: '> quoted\n\n!run x' })).toBe('> quoted\n\n!run x');
    expect(ownText(quoted('!run whisper').content)).toBe('!run whisper');
  });

  it('is a command when what follows the quote is one', async () => {
    const f = await fakeRoom({ self: '@me:hs', members: ['@alice:hs', '@bob:hs'] });
    const coordinator = new CoordinatorRole(f.ctx, () => [f.room]);
    const reply = f.event('@alice:hs', 'm.room.message', {
      msgtype: 'm.text',
      body: '> <@bob:hs> Voice message\n\n!run whisper',
      'm.relates_to': { 'm.in_reply_to': { event_id: '$voice' } },
    });
    coordinator.onMessage(f.room, reply);
    const pending = f.room.book.requests.pending();
    expect(pending.map((r) => [r.id, r.body])).toEqual([[reply.event_id, '!run whisper']]);
  });
});

describe('an overlong command', () => {
  it('waits for a coordinator without its whole body, which the log would keep and save', async () => {
    const f = await fakeRoom({ self: '@me:hs', members: ['@alice:hs'] });
    const coordinator = new CoordinatorRole(f.ctx, () => [f.room]);
    const body = `!run wordcount bafy ${'x'.repeat(60_000)}`;
    coordinator.onMessage(
      f.room,
      f.event('@alice:hs', 'm.room.message', { msgtype: 'm.text', body }),
    );
    const [pending] = f.room.book.requests.pending();
    expect(pending?.body.length).toBeLessThanOrEqual(4_001);
    expect(parseCommand(pending?.body ?? '')).toEqual(parseCommand(body));
  });

  it('waits without the parts of its m.relates_to that nothing reads', async () => {
    const f = await fakeRoom({ self: '@me:hs', members: ['@alice:hs'] });
    const coordinator = new CoordinatorRole(f.ctx, () => [f.room]);
    const relation = { rel_type: 'm.thread', event_id: '$root', junk: 'x'.repeat(60_000) };
    coordinator.onMessage(
      f.room,
      f.event('@alice:hs', 'm.room.message', {
        msgtype: 'm.text',
        body: '!run wordcount bafy',
        'm.relates_to': relation,
      }),
    );
    const [pending] = f.room.book.requests.pending();
    expect(pending?.relatesTo).toEqual({ rel_type: 'm.thread', event_id: '$root' });
  });
});

describe('a room that transcribes voice messages by itself', () => {
  it('takes voice messages, not every audio file posted (a song, a podcast)', async () => {
    const f = await fakeRoom({ self: '@me:hs', members: ['@alice:hs'] });
    f.room.settings = { ...f.room.settings, autoTranscribe: true };
    const coordinator = new CoordinatorRole(f.ctx, () => [f.room]);
    const post = (content: Record<string, unknown>) => {
      const event = f.event('@alice:hs', 'm.room.message', { url: 'mxc://hs/x', ...content });
      coordinator.onMessage(f.room, event);
      return event.event_id;
    };
    const voice = post({
      msgtype: 'm.audio',
      body: 'Voice message.ogg',
      info: { mimetype: 'audio/ogg' },
      'org.matrix.msc3245.voice': {},
    });
    post({ msgtype: 'm.audio', body: 'podcast.mp3', info: { mimetype: 'audio/mpeg' } });
    post({ msgtype: 'm.file', body: 'song.flac', info: { mimetype: 'audio/flac' } });
    const pending = f.room.book.requests.pending();
    expect(pending.map((r) => [r.id, r.body])).toEqual([[voice, '!run whisper']]);
  });
});
