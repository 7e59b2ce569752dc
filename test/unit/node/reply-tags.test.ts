import { describe, expect, it } from 'vitest';
import { applyReply } from '../../../src/node/book-events.ts';
import { REPLY_TAG } from '../../../src/protocol/manager.ts';
import { type FakeRoom, fakeRoom } from '../../support/fake-room.ts';

const TASK = 'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy';
const RESULT = 'bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku';
const COORDINATOR = '@coord:hs';
const WORKER = '@worker:hs';
const OTHER = '@other:hs';

/** This node's view: four nodes, one coordinating; a request with its task at WORKER. */
async function mesh(): Promise<FakeRoom> {
  const f = await fakeRoom({
    self: '@me:hs',
    nodes: {
      [COORDINATOR]: { owner: '@a:hs' },
      [WORKER]: { owner: '@b:hs' },
      [OTHER]: { owner: '@c:hs' },
    },
  });
  f.lease(COORDINATOR, 3);
  f.room.book.requests.seen({ id: '$help', sender: '@a:hs', body: '!help', seenAt: 0 });
  f.room.book.accept(TASK, 'AA==', { request: '$run', submitter: '@a:hs', engine: 'noop' }, 0);
  f.room.book.assign(TASK, { worker: WORKER, attempt: 1, term: 3 }, 30_000, 0);
  return f;
}

function reply(f: FakeRoom, sender: string, request: string, tag: Record<string, unknown>) {
  const content = {
    msgtype: 'm.notice',
    body: 'an answer',
    'm.relates_to': { 'm.in_reply_to': { event_id: request } },
    [REPLY_TAG]: tag,
  };
  applyReply(f.ctx, f.room, f.event(sender, 'm.room.message', content));
}

const dropped = (f: FakeRoom) => f.logs.filter((l) => l.includes('mesh event dropped'));

describe('tagged replies: who may answer a request or a task', () => {
  it('a node that never held the lease cannot mark a request handled', async () => {
    const f = await mesh();
    reply(f, OTHER, '$help', {});
    expect(f.room.book.requests.isHandled('$help')).toBe(false);
    expect(f.room.book.requests.pending().map((r) => r.id)).toEqual(['$help']);
    expect(dropped(f)).toHaveLength(1);
  });

  it('a node that never held the lease cannot finish a task with a result of its choice', async () => {
    const f = await mesh();
    reply(f, OTHER, '$run', { task: TASK, state: 'done', result: RESULT });
    expect(f.room.book.get(TASK)).toMatchObject({ state: 'assigned', answered: false });
    expect(f.room.book.get(TASK)?.result).toBeUndefined();
    expect(dropped(f)).toHaveLength(1);
  });

  it('a coordinator of an older term still answers: its reply is in the room', async () => {
    const f = await mesh();
    f.lease(OTHER, 4);
    reply(f, COORDINATOR, '$help', {});
    expect(f.room.book.requests.isHandled('$help')).toBe(true);
    expect(dropped(f)).toEqual([]);
  });

  it("the acting coordinator's replies count: the request is handled, the task answered", async () => {
    const f = await mesh();
    reply(f, COORDINATOR, '$help', {});
    reply(f, COORDINATOR, '$run', { task: TASK, state: 'done', result: RESULT });
    expect(f.room.book.requests.isHandled('$help')).toBe(true);
    expect(f.room.book.get(TASK)).toMatchObject({ state: 'done', answered: true, result: RESULT });
    expect(dropped(f)).toEqual([]);
  });

  it("the worker's own answer counts from the node the task was assigned to, and no other", async () => {
    const f = await mesh();
    reply(f, OTHER, '$run', { task: TASK, state: 'done', attempt: 1, result: RESULT });
    expect(f.room.book.get(TASK)).toMatchObject({ state: 'assigned', answered: false });
    reply(f, WORKER, '$run', { task: TASK, state: 'done', attempt: 1, result: RESULT });
    expect(f.room.book.get(TASK)).toMatchObject({ state: 'done', answered: true, worker: WORKER });
  });

  it("a worker's answer to another request than its task's does not silence that request", async () => {
    const f = await mesh();
    reply(f, WORKER, '$help', { task: TASK, state: 'done', attempt: 1, result: RESULT });
    reply(f, WORKER, '$run', { task: TASK, state: 'done', attempt: 1, request: '$help' });
    expect(f.room.book.requests.isHandled('$help')).toBe(false);
    expect(f.room.book.requests.pending().map((r) => r.id)).toEqual(['$help']);
    expect(dropped(f)).toHaveLength(2);
  });

  it("a worker's answer without its task is dropped", async () => {
    const f = await mesh();
    reply(f, WORKER, '$help', { attempt: 1 });
    expect(f.room.book.requests.isHandled('$help')).toBe(false);
  });
});
