import { describe, expect, it } from 'vitest';
import type { RoomId } from '../../../src/ids.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { LazyOutbox } from '../../../src/matrix/lazy-outbox.ts';
import type { MeshClient } from '../../../src/matrix/types.ts';

/** A client whose sends wait for `release()`, as behind a rate limit, then build the event. */
function slowClient() {
  const sent: object[] = [];
  let release: () => void = () => {};
  let fail = 0;
  const client = {
    async sendBuilt(_r: RoomId, _t: string, build: () => object | null) {
      await new Promise<void>((r) => {
        release = r;
      });
      if (fail-- > 0) throw new Error('homeserver down');
      const content = build();
      if (content) sent.push(content);
      return null;
    },
  } as unknown as MeshClient;
  return { client, sent, release: () => release(), failNext: (n: number) => (fail = n) };
}

function outbox(client: MeshClient, valid: (n: number) => boolean = () => true) {
  return new LazyOutbox<number>({
    client,
    room: '!r:x' as RoomId,
    type: 'org.meshbot.assign',
    content: (items) => ({ items }),
    valid,
    maxItems: 100,
    log: silentLogger,
    signal: new AbortController().signal,
  });
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('the lazy outbox', () => {
  it('builds each event when its turn comes, with everything pushed while it waited', async () => {
    const c = slowClient();
    const box = outbox(c.client);
    const first = box.push(1);
    await tick();
    const more = [box.push(2), box.push(3)];
    c.release();
    await tick();
    c.release();
    expect(await Promise.all([first, ...more])).toEqual([true, true, true]);
    expect(c.sent).toEqual([{ items: [1, 2, 3] }]);
  });

  it('drops items that are no longer valid when the event is built', async () => {
    const c = slowClient();
    let stale = false;
    const box = outbox(c.client, (n) => !(stale && n === 1));
    const one = box.push(1);
    const two = box.push(2);
    stale = true;
    await tick();
    c.release();
    expect(await one).toBe(false);
    expect(await two).toBe(true);
    expect(c.sent).toEqual([{ items: [2] }]);
  });

  it('drops the one item whose event the server refuses, and sends the others', async () => {
    const sent: object[] = [];
    const errors: string[] = [];
    const client = {
      async sendBuilt(_r: RoomId, _t: string, build: () => object | null) {
        const content = build() as { items: number[] } | null;
        if (content?.items.includes(13)) {
          throw Object.assign(new Error('M_TOO_LARGE'), {
            errcode: 'M_TOO_LARGE',
            statusCode: 413,
          });
        }
        if (content) sent.push(content);
        return null;
      },
    } as unknown as MeshClient;
    const box = new LazyOutbox<number>({
      client,
      room: '!r:x' as RoomId,
      type: 'org.meshbot.assign',
      content: (items) => ({ items }),
      valid: () => true,
      maxItems: 100,
      log: { ...silentLogger, error: (msg: string) => errors.push(msg) },
      signal: new AbortController().signal,
    });
    const results = await Promise.all([12, 13, 14].map((n) => box.push(n)));
    expect(results).toEqual([true, false, true]);
    expect(sent).toEqual([{ items: [12] }, { items: [14] }]);
    expect(errors).toEqual(['org.meshbot.assign: the server refuses this item; dropped']);
  });

  it('settles every push once the node stops, as a Batcher does, so no caller waits for ever', async () => {
    // A send held by the rate limit until the node's signal aborts it, as the SendQueue does.
    const client = {
      sendBuilt: (_r: RoomId, _t: string, _b: unknown, signal: AbortSignal) =>
        new Promise((_ok, fail) => signal.addEventListener('abort', () => fail(signal.reason))),
    } as unknown as MeshClient;
    const stop = new AbortController();
    const box = new LazyOutbox<number>({
      client,
      room: '!r:x' as RoomId,
      type: 'org.meshbot.assign',
      content: (items) => ({ items }),
      valid: () => true,
      maxItems: 100,
      log: silentLogger,
      signal: stop.signal,
    });
    const waiting = [box.push(1), box.push(2)];
    await tick();
    stop.abort();
    const late = box.push(3);
    const hung = new Promise((r) => setTimeout(() => r('never settled'), 500));
    expect(await Promise.race([Promise.all([...waiting, late]), hung])).toEqual([
      false,
      false,
      false,
    ]);
  });
});
