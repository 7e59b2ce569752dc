/**
 * A `!run` in reply to a file waits for the file's download, which may take up to
 * `limits.fetchTimeoutMs`; the coordinator handles it beside its other work, so that the
 * commands posted meanwhile are answered and run without waiting for it. What depends on it
 * (a `!cancel` in its thread) still comes after it, and it stays pending in the book until
 * the file line takes it.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RequestLog } from '../../../src/coordinator/request-log.ts';
import type { EventId } from '../../../src/ids.ts';
import { echoRoom } from '../../support/echo-room.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

/** Time for the node to take in what landed (its `settled` waits for the downloads too). */
const moment = () => new Promise((r) => setTimeout(r, 300));

/** A mesh whose homeserver holds files (`mxc://hs/<id>`) that arrive when `arrive` is called. */
async function slowFiles() {
  const room = await echoRoom();
  const arrivals = new Map<string, (bytes: Uint8Array) => void>();
  const asked: string[] = [];
  Object.assign(room.f.ctx.client, {
    getEvent: async (_room: string, id: EventId) => ({
      type: 'm.room.message',
      event_id: id,
      sender: '@alice:hs',
      origin_server_ts: 0,
      content: { msgtype: 'm.file', body: 'f.txt', url: `mxc://hs/${id}`, info: { size: 16 } },
    }),
    download: (mxc: string) => {
      asked.push(mxc.slice('mxc://hs/'.length));
      return new Promise<Uint8Array>((r) => arrivals.set(mxc.slice('mxc://hs/'.length), r));
    },
  });
  const arrive = (file: string, text: string) =>
    arrivals.get(file)?.(new TextEncoder().encode(text));
  /** Alice posts `!run echo` in reply to `file`; its request id. */
  const seen = vi.spyOn(RequestLog.prototype, 'seen');
  const runOn = async (file: string) => {
    const before = seen.mock.calls.length;
    room.post({
      msgtype: 'm.text',
      body: '!run echo',
      'm.relates_to': { 'm.in_reply_to': { event_id: file } },
    });
    await vi.waitFor(() => expect(seen.mock.calls.length).toBeGreaterThan(before));
    const request = seen.mock.calls[before]?.[0].id as string;
    return { request, log: seen.mock.contexts[before] as RequestLog };
  };
  return { ...room, arrive, asked, runOn };
}

describe('a `!run` in reply to a file whose download is slow', () => {
  it('holds up no other command: they run meanwhile, and it runs once its file is in', async () => {
    const { ask, runs, settled, arrive, runOn } = await slowFiles();
    await runOn('$file');
    ask();
    await vi.waitFor(() => expect(runs).toEqual(['hello']), { timeout: 5_000 });
    arrive('$file', 'a slow file');
    await vi.waitFor(() => expect(runs).toEqual(['hello', 'a slow file']), { timeout: 5_000 });
    await settled();
  });

  it('takes a `!cancel` posted in its thread after it, as in room order', async () => {
    const { post, runs, replies, settled, arrive, runOn } = await slowFiles();
    const { request } = await runOn('$file');
    post({
      msgtype: 'm.text',
      body: '!cancel',
      'm.relates_to': {
        rel_type: 'm.thread',
        event_id: request,
        is_falling_back: true,
        'm.in_reply_to': { event_id: request },
      },
    });
    await moment();
    arrive('$file', 'a slow file');
    await vi.waitFor(() =>
      expect(replies().map((r) => String(r.content.body))).toContainEqual(
        expect.stringMatching(/cancel/),
      ),
    );
    await settled();
    const texts = replies().map((r) => String(r.content.body));
    expect(texts.join('\n')).not.toMatch(/no task in this thread/);
    expect(runs).not.toContain('a slow file');
  });

  it('is refused at once, not queued behind a download, when its sender may not run work', async () => {
    const { post, replies, asked, runOn } = await slowFiles();
    await runOn('$file1');
    const reply = { 'm.in_reply_to': { event_id: '$file2' } };
    post({ msgtype: 'm.text', body: '!run echo', 'm.relates_to': reply }, '@eve:hs');
    await vi.waitFor(() =>
      expect(replies().map((r) => String(r.content.body))).toContainEqual(
        expect.stringMatching(/nothing was run/),
      ),
    );
    expect(asked).toEqual(['$file1']);
  });

  it('stays pending in the book until the file line takes it', async () => {
    const { asked, runOn } = await slowFiles();
    await runOn('$file1');
    const second = await runOn('$file2');
    await vi.waitFor(() => expect(asked).toEqual(['$file1']));
    await moment();
    // Nothing was done with the second one yet: a node that stopped now finds it pending.
    expect(asked).toEqual(['$file1']);
    expect(second.log.isHandled(second.request)).toBe(false);
    expect(second.log.pending().map((r) => r.id)).toContain(second.request);
  });
});

describe('a `!run` whose pipeline definition is slow to fetch', () => {
  it('holds up no other command, and gets its answer once the fetch gives up', async () => {
    const { f, ask, say, runs, replies, settled } = await echoRoom();
    f.ctx.config.limits.fetchTimeoutMs = 1_500;
    const definition = (await f.ctx.store.addBytes(new TextEncoder().encode('{"x":1}'))).toString();
    const input = (await f.ctx.store.addBytes(new TextEncoder().encode('in'))).toString();
    // The definition's blocks are on no reachable node: its fetch waits for its timeout.
    const cat = f.ctx.store.cat.bind(f.ctx.store);
    f.ctx.store.cat = ((cid: { toString(): string }, o: { signal?: AbortSignal } = {}) =>
      cid.toString() === definition
        ? new Promise((_, reject) =>
            o.signal?.addEventListener('abort', () => reject(o.signal?.reason)),
          )
        : cat(cid as never, o as never)) as never;
    say(`!run echo ${input} pipeline=${definition}`);
    await moment();
    ask();
    await vi.waitFor(() => expect(runs).toEqual(['hello']), { timeout: 1_200 });
    const bodies = () => replies().map((r) => String(r.content.body));
    await vi.waitFor(
      () =>
        expect(bodies()).toContain(
          `the pipeline ${definition} could not be fetched from the mesh within 2 s (TIMEOUT)`,
        ),
      { timeout: 5_000 },
    );
    await settled();
  });
});
