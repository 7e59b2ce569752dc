/**
 * What a `!run` in reply may find at the other end: fileFromMessage refuses each odd event
 * with a typed error before anything is downloaded, or downloads within the cap.
 */
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../src/errors/index.ts';
import type { EventId, RoomId } from '../../../src/ids.ts';
import { EncryptedFileError, NoFileError } from '../../../src/matrix/file-errors.ts';
import { ANY_FILE, fileFromMessage } from '../../../src/matrix/file-message.ts';
import { repliedTo } from '../../../src/matrix/reply.ts';
import type { MeshClient, RoomEvent } from '../../../src/matrix/types.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';

const ROOM = '!r:hs' as RoomId;

function deps(event: Partial<RoomEvent>) {
  const downloads: string[] = [];
  const client = {
    getEvent: async () => ({ event_id: '$x', sender: '@a:hs', origin_server_ts: 0, ...event }),
    download: async (mxc: string, maxBytes: number) => {
      downloads.push(mxc);
      return new Uint8Array(Math.min(maxBytes, 3));
    },
  } as unknown as MeshClient;
  return { deps: { client, store: createMemoryStore() }, downloads };
}

const fetch = (event: Partial<RoomEvent>) => {
  const d = deps(event);
  const p = fileFromMessage(d.deps, ROOM, '$x' as EventId, ANY_FILE, {
    maxBytes: 100,
    timeoutMs: 1_000,
  });
  return { p, downloads: d.downloads };
};

describe('fileFromMessage on hostile or odd events', () => {
  it('a state event is no file (usage)', async () => {
    const { p, downloads } = fetch({
      type: 'm.room.topic',
      state_key: '',
      content: { msgtype: 'm.file', url: 'mxc://hs/a' },
    } as Partial<RoomEvent>);
    await expect(p).rejects.toBeInstanceOf(NoFileError);
    expect(downloads).toEqual([]);
  });

  it('a redacted file message is refused as deleted', async () => {
    const { p, downloads } = fetch({
      type: 'm.room.message',
      content: {},
      unsigned: { redacted_because: { type: 'm.room.redaction' } },
    } as Partial<RoomEvent>);
    await expect(p).rejects.toThrow('was deleted');
    expect(downloads).toEqual([]);
  });

  it('an event seen encrypted, and an encrypted file, are refused as encrypted', async () => {
    await expect(fetch({ type: 'm.room.encrypted', content: {} }).p).rejects.toBeInstanceOf(
      EncryptedFileError,
    );
    const file = { url: 'mxc://hs/a' };
    const { p } = fetch({ type: 'm.room.message', content: { msgtype: 'm.image', file } });
    await expect(p).rejects.toBeInstanceOf(EncryptedFileError);
  });

  it('a url that is not mxc is refused unfetched; an odd size is left to the download cap', async () => {
    for (const url of ['https://evil.example/x', 42, undefined]) {
      const { p, downloads } = fetch({
        type: 'm.room.message',
        content: { msgtype: 'm.file', url },
      });
      await expect(p).rejects.toBeInstanceOf(BadInputError);
      expect(downloads).toEqual([]);
    }
    for (const info of [{ size: -1 }, { size: '1e12' }, null, 'x']) {
      const { p, downloads } = fetch({
        type: 'm.room.message',
        content: { msgtype: 'm.file', url: 'mxc://hs/a', info },
      });
      await expect(p).resolves.toBeDefined();
      expect(downloads).toEqual(['mxc://hs/a']);
    }
  });

  it('a reply in a thread: the fallback names the root, a real reply the message', () => {
    const fallback = {
      rel_type: 'm.thread',
      event_id: '$root',
      is_falling_back: true,
      'm.in_reply_to': { event_id: '$latest' },
    };
    expect(repliedTo(fallback)).toBe('$root');
    expect(repliedTo({ ...fallback, is_falling_back: false })).toBe('$latest');
    expect(repliedTo({ 'm.in_reply_to': { event_id: 'not-an-id' } })).toBeUndefined();
  });
});
