/**
 * A Complete event's inline result blocks are each checked on their own: a block that does not
 * decode, or whose bytes do not match its CID, is dropped with a log line, and the event's
 * completions still count.
 */
import { describe, expect, it } from 'vitest';
import { applyBookEvent } from '../../../src/node/book-events.ts';
import { EVENT } from '../../../src/protocol/events.ts';
import { fakeRoom } from '../../support/fake-room.ts';

const TASK = 'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy';
const RESULT = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';
const WORKER = '@worker:hs';

describe('a Complete event with bad inline blocks', () => {
  it.each([
    ['a CID that does not parse', { cid: 'bafyNOTACID', data: 'AA==' }],
    ['bytes that do not match the CID', { cid: RESULT, data: 'AAAA' }],
  ])('%s: the block is dropped, the completion counts', async (_what, block) => {
    const f = await fakeRoom({ self: '@me:hs', nodes: { [WORKER]: { owner: '@b:hs' } } });
    f.lease('@me:hs', 1);
    f.room.book.accept(TASK, 'AA==', { request: '$run', submitter: '@b:hs', engine: 'noop' }, 0);
    f.room.book.assign(TASK, { worker: WORKER, attempt: 1, term: 1 }, 30_000, 0);
    const content = {
      completions: [{ task: TASK, attempt: 1, ok: true, result: RESULT }],
      blocks: [block],
    };
    const applied = await applyBookEvent(f.ctx, f.room, f.event(WORKER, EVENT.complete, content));
    expect(applied).toBe(true);
    expect(f.room.book.get(TASK)).toMatchObject({ state: 'done', result: RESULT });
    expect(f.logs.filter((l) => l.includes('bad result block'))).toHaveLength(1);
  });
});
