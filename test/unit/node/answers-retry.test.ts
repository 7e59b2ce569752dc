/**
 * An answer the homeserver refuses is tried again after a wait that doubles, not at each of
 * the coordinator's looks at the room (many a second in a busy room): a refused answer was
 * sent again and again, each refusal an error line. A thread the homeserver will not have
 * gets a plain reply instead.
 */
import { expect, it } from 'vitest';
import { Answers } from '../../../src/node/answers.ts';
import { fakeRoom, runningTask } from '../../support/fake-room.ts';

it('tries a refused answer again after 1 s, then 2 s, and stops once it went out', async () => {
  const f = await fakeRoom({ self: '@me:hs', members: ['@alice:hs'] });
  f.lease('@me:hs', 1);
  (f.room.election as { acting: () => boolean }).acting = () => true;
  const id = await runningTask(f);
  const book = f.room.book;
  const error = { code: 'ENGINE_FAILED', message: 'it broke' };
  book.complete('@me:hs', { task: id, attempt: 1, ok: false, error }, 3, Date.now());

  // The homeserver refuses the answer until told otherwise.
  let refuse = true;
  let tries = 0;
  const client = f.ctx.client as { send: (...a: unknown[]) => Promise<unknown> };
  const send = client.send;
  client.send = async (...args: unknown[]) => {
    tries++;
    if (refuse) throw new Error('M_UNKNOWN: Cannot start threads from an event with a relation');
    return send(...args);
  };
  let now = 1_000_000;
  const answers = new Answers(f.ctx, { now: () => now });
  const look = async (times: number) => {
    for (let i = 0; i < times; i++) {
      answers.answerAll(f.room);
      await answers.idle();
    }
  };

  await look(10);
  expect(tries).toBe(1);
  now += 999;
  await look(5);
  expect(tries).toBe(1);
  now += 1;
  await look(5);
  expect(tries).toBe(2);
  now += 1999;
  await look(5);
  expect(tries).toBe(2);
  now += 1;
  refuse = false;
  await look(5);
  expect(tries).toBe(3);
  expect(book.get(id)?.answered).toBe(true);
  expect(f.logs.filter((l) => l.includes('could not answer; trying again later'))).toHaveLength(2);
});

it('replies outside the thread when the homeserver refuses the thread', async () => {
  const f = await fakeRoom({ self: '@me:hs', members: ['@alice:hs'] });
  f.lease('@me:hs', 1);
  (f.room.election as { acting: () => boolean }).acting = () => true;
  const id = await runningTask(f);
  const error = { code: 'ENGINE_FAILED', message: 'it broke' };
  f.room.book.complete('@me:hs', { task: id, attempt: 1, ok: false, error }, 3, Date.now());
  const client = f.ctx.client as { send: (...a: unknown[]) => Promise<unknown> };
  const send = client.send;
  client.send = async (...args: unknown[]) => {
    const content = args[2] as { 'm.relates_to'?: { rel_type?: string } };
    if (content['m.relates_to']?.rel_type === 'm.thread') {
      throw Object.assign(
        new Error('M_UNKNOWN: Cannot start threads from an event with a relation'),
        {
          statusCode: 400,
        },
      );
    }
    return send(...args);
  };
  const answers = new Answers(f.ctx);
  answers.answerAll(f.room);
  await answers.idle();
  expect(f.sent.at(-1)?.content['m.relates_to']).toEqual({ 'm.in_reply_to': { event_id: '$run' } });
  expect(f.room.book.get(id)?.answered).toBe(true);
});
