/**
 * A `!run` in reply to a file waits for the file's download, which may take up to
 * `limits.fetchTimeoutMs`; the coordinator handles it beside its other work, so that the
 * commands posted meanwhile are answered and run without waiting for it.
 */
import { describe, expect, it, vi } from 'vitest';
import type { EventId } from '../../../src/ids.ts';
import { echoRoom } from '../../support/echo-room.ts';

describe('a `!run` in reply to a file whose download is slow', () => {
  it('holds up no other command: they run meanwhile, and it runs once its file is in', async () => {
    const { f, ask, post, runs, settled } = await echoRoom();
    let arrive: (bytes: Uint8Array) => void = () => {};
    const download = new Promise<Uint8Array>((r) => {
      arrive = r;
    });
    const notes = new TextEncoder().encode('a slow file');
    const file = {
      msgtype: 'm.file',
      body: 'notes.txt',
      url: 'mxc://hs/notes',
      info: { size: notes.length },
    };
    Object.assign(f.ctx.client, {
      getEvent: async (_room: string, id: EventId) => ({
        type: 'm.room.message',
        event_id: id,
        sender: '@alice:hs',
        origin_server_ts: 0,
        content: file,
      }),
      download: () => download,
    });

    post({
      msgtype: 'm.text',
      body: '!run echo',
      'm.relates_to': { 'm.in_reply_to': { event_id: '$file' } },
    });
    ask();
    await vi.waitFor(() => expect(runs).toEqual(['hello']), { timeout: 5_000 });

    arrive(notes);
    await vi.waitFor(() => expect(runs).toEqual(['hello', 'a slow file']), { timeout: 5_000 });
    await settled();
  });
});
