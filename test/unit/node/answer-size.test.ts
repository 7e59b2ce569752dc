/**
 * A result's text is cut to what one event can carry, whatever its characters: a reply the
 * homeserver refuses for its size would be tried again for ever, and the `!run` never answered.
 */
import { describe, expect, it } from 'vitest';
import { cutText, fitReply, MAX_REPLY_TEXT_BYTES } from '../../../src/matrix/reply.ts';
import { EventTooLargeError, MAX_EVENT_BYTES } from '../../../src/matrix/retry.ts';
import { Answers } from '../../../src/node/answers.ts';
import { fakeRoom, runningTask } from '../../support/fake-room.ts';

const jsonBytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v));

describe('the text of a reply', () => {
  it('fits in its byte budget however its characters encode, and is marked when cut', () => {
    for (const text of ['中'.repeat(25_000), '\u0001'.repeat(20_000), '😀'.repeat(12_000)]) {
      const fitted = fitReply(text);
      expect(jsonBytes(fitted)).toBeLessThanOrEqual(MAX_REPLY_TEXT_BYTES);
      expect(fitted.endsWith('… (truncated)')).toBe(true);
      expect(fitted.length).toBeGreaterThan(MAX_REPLY_TEXT_BYTES / 8);
    }
    expect(fitReply('short')).toBe('short');
  });

  it('is never cut inside a surrogate pair', () => {
    expect(cutText('a😀b', 2)).toBe('a');
    expect(cutText('a😀b', 3)).toBe('a😀');
  });

  it('of the largest result the config allows is answered, even in 3-byte characters', async () => {
    const f = await fakeRoom({ self: '@me:hs', members: ['@alice:hs'] });
    f.ctx.config.limits.maxReplyChars = 20_000;
    f.lease('@me:hs', 1);
    (f.room.election as { acting: () => boolean }).acting = () => true;
    const id = await runningTask(f);
    const out = await f.ctx.store.addBytes(new TextEncoder().encode('中'.repeat(20_000)));
    f.room.book.complete('@me:hs', { task: id, attempt: 1, ok: true, result: `${out}` }, 3, 0);
    // What the real client does before any request.
    const client = f.ctx.client as { send: (...a: unknown[]) => Promise<unknown> };
    const send = client.send;
    client.send = async (...args: unknown[]) => {
      const size = jsonBytes(args[2]);
      if (size > MAX_EVENT_BYTES) throw new EventTooLargeError(size);
      return send(...args);
    };
    const answers = new Answers(f.ctx);
    answers.answerAll(f.room);
    await answers.idle();
    expect(f.room.book.get(id)?.answered).toBe(true);
    const body = String(f.sent.at(-1)?.content.body);
    expect(body).toContain(`result: ${out}`);
  });
});
