/**
 * What the node's replies show: `!mesh` lists the mesh's nodes only, each on one line (any
 * member may announce itself, as org.meshbot.node is its own state, and an announcement's
 * text is the announcer's); an internal error's reply names an id its log line carries; an
 * answer says when replicas= did not reach the task; the answer to a `!run` posted in a thread
 * goes to that thread, and an edit into a command is answered at the message it edits.
 */
import { expect, it } from 'vitest';
import { taskInThread } from '../../../src/coordinator/book-views.ts';
import type { EventId, UserId } from '../../../src/ids.ts';
import { Answers } from '../../../src/node/answers.ts';
import { applyReply } from '../../../src/node/book-events.ts';
import { Dispatch } from '../../../src/node/dispatch.ts';
import { EVENT } from '../../../src/protocol/events.ts';
import { type FakeRoom, fakeRoom, nodeState, ROOM, runningTask } from '../../support/fake-room.ts';

const ENGINE_CID = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy';

/** Posts a command as `sender`; the node's reply. */
async function ask(f: FakeRoom, sender: string, body: string): Promise<string> {
  await new Dispatch(f.ctx).handle(f.room, { id: '$ask', sender, body, seenAt: Date.now() });
  return String(f.sent.at(-1)?.content.body);
}

it('lists only nodes, one line each, and at most 20 engines of each', async () => {
  const f = await fakeRoom({
    self: '@me:hs',
    members: ['@alice:hs', '@mallory:hs', '@bot2:hs'],
    powerLevels: { '@alice:hs': 50 },
    admission: { powerLevel: 50, nodes: ['@me:hs', '@bot2:hs'] },
  });
  f.lease('@me:hs', 1);
  const announce = (user: string, names: string[]) =>
    f.ctx.roster.apply(ROOM, {
      type: EVENT.node,
      state_key: user,
      sender: user as UserId,
      event_id: `$${user}` as EventId,
      origin_server_ts: 0,
      content: { ...nodeState(user), engines: names.map((name) => ({ name, cid: ENGINE_CID })) },
    });
  // A member who is not a node, with text made to look like the reply's own lines.
  announce('@mallory:hs', ['x\ncoordinator: @mallory:hs (term 999)\nnodes:']);
  // A node with many engines, one of them named over two lines.
  const names = ['two\nlines', ...Array.from({ length: 29 }, (_, i) => `engine-${i}`)];
  announce('@bot2:hs', names);

  const body = await ask(f, '@alice:hs', '!mesh');
  expect(body).not.toContain('mallory');
  const lines = body.split('\n');
  expect(lines[0]).toBe('coordinator: @me:hs (term 1)');
  const bot2 = lines.find((l) => l.startsWith('  @bot2:hs — ')) as string;
  expect(bot2).toContain('engines: two lines, engine-0, ');
  expect(bot2).toContain('engine-18, … (30 in all)');
  expect(bot2).not.toContain('engine-19');
});

it('logs the id that an internal error reply names', async () => {
  const f = await fakeRoom({ self: '@me:hs', members: ['@alice:hs'] });
  f.lease('@me:hs', 1);
  // The room settings event fails to send, with an error that is not meshbot's own.
  (f.ctx.client as { sendState: unknown }).sendState = async () => {
    throw new Error('socket hang up');
  };
  const reply = await ask(f, '@owner:hs', '!autotranscribe on');
  const id = /internal error \(id ([0-9a-f]{8});/.exec(reply)?.[1] as string;
  expect(id).toMatch(/^[0-9a-f]{8}$/);
  const line = f.logs.find((l) => l.includes('command failed')) as string;
  expect(JSON.parse(line)).toMatchObject({ errorId: id, err: { message: 'socket hang up' } });
});

it('says a split task asked with replicas= was not verified', async () => {
  const f = await fakeRoom({ self: '@me:hs', members: ['@alice:hs'] });
  f.lease('@me:hs', 1);
  const id = await runningTask(f, { replicas: 3 });
  const book = f.room.book;
  const now = Date.now();
  // It ran as two parts (as a long recording does), whose outputs make its result.
  const result = (
    await f.ctx.store.addBytes(new TextEncoder().encode('the transcript'))
  ).toString();
  book.complete('@me:hs', { task: id, attempt: 1, ok: true, result, split: true }, 3, now);
  book.addParts(id, []);
  book.finishSplit(id, { result }, now);

  // This node coordinates (past the settle time a fresh claim waits).
  (f.room.election as { acting: () => boolean }).acting = () => true;
  const answers = new Answers(f.ctx);
  answers.answerAll(f.room);
  await answers.idle();
  const reply = String(f.sent.at(-1)?.content.body);
  expect(reply).toContain('the transcript');
  expect(reply).toContain('not verified: it was split into parts, which replicas= does not reach');
});

it('answers a task asked for in a thread in that thread', async () => {
  const f = await fakeRoom({ self: '@me:hs', members: ['@alice:hs'] });
  f.lease('@me:hs', 1);
  const id = await runningTask(f, { thread: '$root' });
  const book = f.room.book;
  const now = Date.now();
  const error = { code: 'ENGINE_FAILED', message: 'it broke' };
  book.complete('@me:hs', { task: id, attempt: 1, ok: false, error }, 3, now);
  // `!status` in the thread finds it, though the thread was not started on its request.
  expect(taskInThread(book, '$root', '@alice:hs')?.id).toBe(id);
  // Of several tasks in the thread, a sender's message is about the newest of their own.
  const bobs = await runningTask(f, { thread: '$root', submitter: '@bob:hs', request: '$run2' });
  expect(taskInThread(book, '$root', '@alice:hs')?.id).toBe(id);
  expect(taskInThread(book, '$root', '@bob:hs')?.id).toBe(bobs);
  expect(taskInThread(book, '$root', '@carol:hs')?.id).toBe(bobs);
  // In a thread started on Alice's `!run`, Bob's message is about his own task there first.
  const bobsToo = await runningTask(f, { thread: '$run', submitter: '@bob:hs', request: '$run3' });
  expect(taskInThread(book, '$run', '@bob:hs')?.id).toBe(bobsToo);
  expect(taskInThread(book, '$run', '@carol:hs')?.id).toBe(id);

  (f.room.election as { acting: () => boolean }).acting = () => true;
  const answers = new Answers(f.ctx);
  answers.answerAll(f.room);
  await answers.idle();
  // A homeserver refuses a thread rooted on the `!run`, which is itself in a thread.
  expect(f.sent.at(-1)?.content['m.relates_to']).toEqual({
    rel_type: 'm.thread',
    event_id: '$root',
    is_falling_back: true,
    'm.in_reply_to': { event_id: '$run' },
  });
});

it('answers an edit into a command at the message it edits, and runs nothing', async () => {
  const f = await fakeRoom({ self: '@me:hs', members: ['@alice:hs'] });
  f.lease('@me:hs', 1);
  // The edited message is in a thread: the reply goes there, not onto the edit.
  let author = '@alice:hs';
  (f.ctx.client as { getEvent: unknown }).getEvent = async () => ({
    sender: author,
    content: { 'm.relates_to': { rel_type: 'm.thread', event_id: '$root' } },
  });
  const req = { id: '$edit', sender: '@alice:hs', body: '', seenAt: Date.now(), edits: '$orig' };
  expect(await new Dispatch(f.ctx).handle(f.room, req)).toBeNull();
  expect(f.sent).toHaveLength(1);
  expect(f.sent[0]?.content.body).toBe(
    'an edited message is not run: post the command as a new message',
  );
  expect(f.sent[0]?.content['m.relates_to']).toMatchObject({
    event_id: '$root',
    'm.in_reply_to': { event_id: '$orig' },
  });
  expect(f.room.book.all()).toEqual([]);

  // Another node marks the edit handled from the reply: its next coordinator says nothing.
  const g = await fakeRoom({
    self: '@bot2:hs',
    members: ['@alice:hs'],
    nodes: { '@me:hs': { owner: '@owner:hs' } },
  });
  g.lease('@me:hs', 1);
  g.room.book.requests.seen(req);
  applyReply(g.ctx, g.room, { ...g.event('@me:hs', 'm.room.message', f.sent[0]?.content ?? {}) });
  expect(g.room.book.requests.pending()).toEqual([]);

  // An "edit" of someone else's message (clients ignore it) gets no reply.
  author = '@bob:hs';
  await new Dispatch(f.ctx).handle(f.room, { ...req, id: '$edit2' });
  expect(f.sent).toHaveLength(1);
});
