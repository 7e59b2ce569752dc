import { describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../src/log/logger.ts';
import { Batcher } from '../../../src/matrix/batcher.ts';

describe('the batcher', () => {
  it('gathers items pushed while an event is on its way into the next one', async () => {
    const events: number[][] = [];
    const b = new Batcher<number>({
      send: async (items) => {
        events.push(items);
        await new Promise((r) => setTimeout(r, 20));
      },
      maxItems: 100,
      log: silentLogger,
      what: 'test',
      signal: new AbortController().signal,
    });
    const sent = Array.from({ length: 10 }, (_, i) => b.push(i));
    await new Promise((r) => setTimeout(r, 5));
    sent.push(...Array.from({ length: 10 }, (_, i) => b.push(10 + i)));
    await Promise.all(sent);
    expect(events).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      [10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
    ]);
  });

  it('sends a failed batch again, losing nothing, and respects maxItems', async () => {
    const events: string[][] = [];
    let fail = 2;
    const b = new Batcher<string>({
      send: async (items) => {
        if (fail-- > 0) throw new Error('homeserver down');
        events.push(items);
      },
      maxItems: 2,
      log: silentLogger,
      what: 'test',
      signal: new AbortController().signal,
      retryDelayMs: 1,
    });
    await Promise.all(['a', 'b', 'c'].map((x) => b.push(x)));
    expect(events).toEqual([['a', 'b'], ['c']]);
  });

  it('drops only the item whose content the server refuses, and sends the rest', async () => {
    const events: string[][] = [];
    const errors: string[] = [];
    const b = new Batcher<string>({
      send: async (items) => {
        if (items.includes('float')) {
          throw Object.assign(new Error('M_BAD_JSON: Bad JSON value: float'), {
            errcode: 'M_BAD_JSON',
            statusCode: 400,
          });
        }
        events.push(items);
      },
      maxItems: 10,
      log: { ...silentLogger, error: (msg: string) => errors.push(msg) },
      what: 'test',
      signal: new AbortController().signal,
      retryDelayMs: 1,
    });
    await Promise.all(['a', 'float', 'c'].map((x) => b.push(x)));
    await b.push('d');
    expect(events).toEqual([['a'], ['c'], ['d']]);
    expect(errors).toEqual(['test: the server refuses this item; dropped']);
  });

  it('once closed (the room was left), drops what it has not sent and tries nothing again', async () => {
    const tries: string[][] = [];
    const b = new Batcher<string>({
      send: async (items) => {
        tries.push(items);
        throw Object.assign(new Error('M_FORBIDDEN'), { errcode: 'M_FORBIDDEN', statusCode: 403 });
      },
      maxItems: 1,
      log: silentLogger,
      what: 'test',
      signal: new AbortController().signal,
      // The first failure leaves it waiting (far longer than this test) to try again.
      retryDelayMs: 60_000,
    });
    const pushed = Promise.all(['a', 'b'].map((x) => b.push(x)));
    await vi.waitFor(() => expect(tries).toEqual([['a']]));
    expect(b.close()).toBe(2);
    // Every push settles at once, so nothing waits for ever on a room that refuses everything.
    await pushed;
    await b.idle();
    await b.push('c');
    await new Promise((r) => setTimeout(r, 20));
    expect(tries).toEqual([['a']]);
  });
});
