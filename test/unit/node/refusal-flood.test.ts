import { describe, expect, it } from 'vitest';
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
