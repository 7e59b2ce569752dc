import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { withRetry } from '../../../src/matrix/retry.ts';
import { SendQueue, sendPriority } from '../../../src/matrix/send-queue.ts';

const limited = (ms: number) => ({
  statusCode: 429,
  errcode: 'M_LIMIT_EXCEEDED',
  retryAfterMs: ms,
});

describe('the send queue', () => {
  it('after a rate limit, gives the next turn to the most important send waiting', async () => {
    const q = new SendQueue(1);
    const order: string[] = [];
    let first = true;
    const send = (name: string, priority: number) =>
      q.run(priority, async () => {
        if (first) {
          first = false;
          throw limited(30);
        }
        order.push(name);
      });
    await Promise.all([
      send('reaction', sendPriority('m.reaction')),
      send('reply', sendPriority('m.room.message')),
      send('assign', sendPriority('org.meshbot.assign')),
      send('lease', sendPriority('org.meshbot.lease')),
    ]);
    // The answer was queued before the assignment, and they are equally important.
    expect(order).toEqual(['lease', 'reply', 'assign', 'reaction']);
  });

  it('passes other errors to the caller and keeps going', async () => {
    const q = new SendQueue(2);
    await expect(
      q.run(2, async () => {
        throw new Error('forbidden');
      }),
    ).rejects.toThrow('forbidden');
    expect(await q.run(2, async () => 'sent')).toBe('sent');
  });

  it('drops a send whose signal is aborted while it waits', async () => {
    const q = new SendQueue(1);
    const stop = new AbortController();
    const blocked = q.run(0, () => new Promise((r) => setTimeout(() => r('slow'), 30)));
    const waiting = q.run(3, async () => 'never', stop.signal);
    stop.abort(new Error('node stopping'));
    await expect(waiting).rejects.toThrow('node stopping');
    expect(await blocked).toBe('slow');
  });

  it("leaves nothing on the node's signal once a send is done, whatever its end", async () => {
    const q = new SendQueue(2);
    const node = new AbortController(); // the node's own: it lives as long as the node
    for (let i = 0; i < 100; i++) await q.run(2, async () => ({ content: 'x' }), node.signal);
    await expect(q.run(2, () => Promise.reject(new Error('no')), node.signal)).rejects.toThrow();
    let limited = true;
    const retried = async () => {
      if (!limited) return 'sent';
      limited = false;
      throw Object.assign(new Error('slow down'), { errcode: 'M_LIMIT_EXCEEDED', retryAfterMs: 5 });
    };
    expect(await q.run(2, retried, node.signal)).toBe('sent');
    expect(getEventListeners(node.signal, 'abort')).toHaveLength(0);
  });
});

describe("the coordinator's lease under a rate limit", () => {
  it('is not held up by a send that backs off on 5xx in the one slot left', async () => {
    const q = new SendQueue(4);
    let limitedOnce = true;
    await q.run(2, async () => {
      if (!limitedOnce) return;
      limitedOnce = false;
      throw limited(5); // from now on, one send at a time
    });
    // An event the homeserver answers 502 for, again and again, tried inside its turn.
    const stuck = q.run(2, () =>
      withRetry(() => Promise.reject({ statusCode: 502 }), {
        rateLimits: 'throw',
        baseDelayMs: 100,
        maxDelayMs: 100,
      }),
    );
    stuck.catch(() => {});
    await new Promise((r) => setTimeout(r, 20));
    const queued = Date.now();
    let ranAfter = Number.NaN;
    await q.run(sendPriority('org.meshbot.lease'), async () => {
      ranAfter = Date.now() - queued;
    });
    // The stuck send holds its slot for 7 back-offs of 100 ms; the renewal must not wait them.
    expect(ranAfter).toBeLessThan(200);
    await expect(stuck).rejects.toMatchObject({ statusCode: 502 });
  });
});

describe('best-effort sends', () => {
  it('drops a send that waited past its deadline, without delaying the rest', async () => {
    const q = new SendQueue(1);
    const slow = q.run(2, () => new Promise((r) => setTimeout(() => r('work'), 40)));
    const cosmetic = q.run(4, async () => 'reaction', undefined, 'm.reaction', 10);
    await expect(cosmetic).rejects.toThrow('m.reaction dropped');
    expect(await slow).toBe('work');
  });
});
