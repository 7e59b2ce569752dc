import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyReply } from '../../../src/node/book-events.ts';
import { CoordinatorRole } from '../../../src/node/coordinator-role.ts';
import { Dispatch } from '../../../src/node/dispatch.ts';
import { type FakeRoom, fakeRoom } from '../../support/fake-room.ts';

const STRANGER = '@stranger:hs';
const MOD = '@mod:hs';

/** A mesh that admits moderators only; this node coordinates. */
async function mesh(): Promise<FakeRoom> {
  return fakeRoom({
    self: '@me:hs',
    members: [STRANGER, MOD],
    powerLevels: { [MOD]: 50, '@me:hs': 50 },
    admission: { powerLevel: 50 },
  });
}

let seq = 0;
function ask(f: FakeRoom, dispatch: Dispatch, sender: string, body: string) {
  const req = { id: `$r${++seq}`, sender, body, seenAt: Date.now() };
  f.room.book.requests.seen(req);
  return dispatch.handle(f.room, req);
}

const replies = (f: FakeRoom) => f.sent.filter((s) => s.type === 'm.room.message');

describe('a member who may not run work floods the room with commands', () => {
  it('is answered once a minute; the rest is logged, and marked handled', async () => {
    const f = await mesh();
    const dispatch = new Dispatch(f.ctx);
    await ask(f, dispatch, STRANGER, '!run wordcount bafkqaaa');
    for (let i = 0; i < 20; i++) await ask(f, dispatch, STRANGER, `!run wordcount bafkqaaa n=${i}`);
    for (let i = 0; i < 20; i++) await ask(f, dispatch, STRANGER, `!nonsense${i}`);
    expect(replies(f)).toHaveLength(1);
    expect(String(replies(f)[0]?.content.body)).toContain('is not admitted to run work');
    expect(f.logs.filter((l) => l.includes('reply held back'))).toHaveLength(40);
    expect(f.room.book.requests.pending()).toEqual([]);
  });

  it('a member who may run work gets every answer', async () => {
    const f = await mesh();
    const dispatch = new Dispatch(f.ctx);
    for (let i = 0; i < 3; i++) await ask(f, dispatch, MOD, `!nonsense${i}`);
    expect(replies(f)).toHaveLength(3);
  });

  it('the next minute, the member is answered again', async () => {
    const f = await mesh();
    let now = 1_000_000;
    const dispatch = new Dispatch(f.ctx, { now: () => now });
    await ask(f, dispatch, STRANGER, '!nonsense');
    now += 30_000;
    await ask(f, dispatch, STRANGER, '!nonsense');
    now += 31_000;
    await ask(f, dispatch, STRANGER, '!nonsense');
    expect(replies(f)).toHaveLength(2);
  });
});

const A = '@a:hs';
const B = '@b:hs';

/**
 * Two nodes of a mesh that admits moderators only: A coordinates, B records the commands it
 * sees (as every node does) and learns from A's tagged replies which were handled.
 */
async function twoNodes() {
  const common = {
    members: [STRANGER, MOD],
    powerLevels: { [MOD]: 50, [A]: 50, [B]: 50 },
    admission: { powerLevel: 50 },
  };
  const a = await fakeRoom({ self: A, nodes: { [B]: { owner: '@owner:hs' } }, ...common });
  const b = await fakeRoom({ self: B, nodes: { [A]: { owner: '@owner:hs' } }, ...common });
  a.lease(A, 1);
  b.lease(A, 1);
  const bRole = new CoordinatorRole(b.ctx, () => [b.room]);
  const aDispatch = new Dispatch(a.ctx);
  /** A message posted in the room: both nodes see it; A handles what is pending at once. */
  const post = async (sender: string, body: string, handle = true) => {
    const event = b.event(sender, 'm.room.message', { msgtype: 'm.text', body });
    a.room.book.requests.seen({ id: event.event_id, sender, body, seenAt: Date.now() });
    bRole.onMessage(b.room, event);
    if (!handle) return;
    const before = a.sent.length;
    for (const req of a.room.book.requests.pending()) await aDispatch.handle(a.room, req);
    // What A sent reaches B through the timeline.
    for (const s of a.sent.slice(before)) {
      if (s.type === 'm.room.message') applyReply(b.ctx, b.room, b.event(A, s.type, s.content));
    }
  };
  return { a, b, post };
}

describe('on the nodes that do not coordinate', () => {
  afterEach(() => vi.useRealTimers());

  it('commands whose refusal was held back are not kept, nor written to disk', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { a, b, post } = await twoNodes();
    for (let i = 0; i < 20; i++) await post(STRANGER, `!run wordcount bafkqaaa n=${i}`);
    expect(replies(a)).toHaveLength(1);
    expect(b.room.book.snapshot().requests).toEqual([]);
    // No coordinator answers them any more: a minute on, no node waits for them.
    vi.setSystemTime(Date.now() + 61_000);
    expect(b.room.book.requests.pending()).toEqual([]);
  });

  it('a node that takes over does not refuse them again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { b, post } = await twoNodes();
    for (let i = 0; i < 20; i++) await post(STRANGER, `!run wordcount bafkqaaa n=${i}`);
    // A dies; B takes the lease when A's has run out, and handles what it kept.
    vi.setSystemTime(Date.now() + 61_000);
    b.lease(B, 2);
    const dispatch = new Dispatch(b.ctx);
    for (const req of b.room.book.requests.pending()) await dispatch.handle(b.room, req);
    expect(replies(b)).toEqual([]);
  });

  it("a flood of them does not push out a moderator's command that waits for a coordinator", async () => {
    const { b, post } = await twoNodes();
    // The coordinator is gone: nothing is handled until another node takes over.
    await post(MOD, '!run wordcount bafkqaaa', false);
    for (let i = 0; i < 1_100; i++) await post(STRANGER, `!run wordcount bafkqaaa n=${i}`, false);
    const waiting = b.room.book.requests.pending().filter((r) => r.sender === MOD);
    expect(waiting.map((r) => r.body)).toEqual(['!run wordcount bafkqaaa']);
    expect(b.room.book.snapshot().requests.map((r) => r.sender)).toEqual([MOD]);
  });
});
