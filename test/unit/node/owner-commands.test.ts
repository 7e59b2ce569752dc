import { describe, expect, it } from 'vitest';
import type { UserId } from '../../../src/ids.ts';
import { Dispatch } from '../../../src/node/dispatch.ts';
import { type FakeRoom, fakeRoom, ROOM } from '../../support/fake-room.ts';

const TASK = 'bafyreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy';
const SUBMITTER = '@submitter:hs';
/** Owns @bot2, a node of the mesh; not this node's owner. */
const ALICE = '@alice:hs';
/** Owns @bad, a node of the mesh; may not run work here unless raised. */
const CAROL = '@carol:hs';
/** Owned @gone, which announced itself and left the room. */
const DAVE = '@dave:hs';

/** This node coordinates a mesh where power level 50 may run work; its bots are listed. */
async function mesh(levels: Record<string, number> = {}): Promise<FakeRoom> {
  const f = await fakeRoom({
    self: '@me:hs',
    members: [SUBMITTER, ALICE, CAROL, DAVE, '@pleb:hs'],
    nodes: {
      '@bot2:hs': { owner: ALICE },
      '@bad:hs': { owner: CAROL },
      '@gone:hs': { owner: DAVE },
    },
    powerLevels: { [SUBMITTER]: 50, [ALICE]: 50, [DAVE]: 50, ...levels },
    admission: { powerLevel: 50, nodes: ['@me:hs', '@bot2:hs', '@bad:hs', '@gone:hs'] },
  });
  f.ctx.roster.view(ROOM)?.members.delete('@gone:hs' as UserId);
  f.lease('@me:hs', 1);
  f.room.book.accept(TASK, 'AA==', { request: '$run', submitter: SUBMITTER, engine: 'noop' }, 0);
  f.room.trust.disagreed('@bad:hs', 'a wrong result', 0);
  return f;
}

let seq = 0;
async function ask(f: FakeRoom, sender: string, body: string): Promise<string> {
  const req = { id: `$r${++seq}`, sender, body, seenAt: Date.now() };
  await new Dispatch(f.ctx).handle(f.room, req);
  const replies = f.sent.filter((s) => s.type === 'm.room.message');
  return String(replies.at(-1)?.content.body ?? '');
}

describe('!cancel: the submitter, or the owner of a node of the mesh', () => {
  it('the owner named by any current node may cancel, not only this node’s owner', async () => {
    const f = await mesh();
    expect(await ask(f, ALICE, `!cancel ${TASK}`)).toBe(`cancelled ${TASK}`);
    expect(f.room.book.get(TASK)?.state).toBe('cancelled');
  });

  it('the submitter may cancel', async () => {
    const f = await mesh();
    expect(await ask(f, SUBMITTER, `!cancel ${TASK}`)).toBe(`cancelled ${TASK}`);
  });

  it('anyone else may not, nor the owner of a node that left the room', async () => {
    const f = await mesh({ '@pleb:hs': 50 });
    expect(await ask(f, '@pleb:hs', `!cancel ${TASK}`)).toContain('may cancel it');
    expect(await ask(f, DAVE, `!cancel ${TASK}`)).toContain('may cancel it');
    expect(f.room.book.get(TASK)?.state).toBe('queued');
  });
});

describe('!trust release: the node’s owner, who must also be able to run work here', () => {
  it('an owner who may not run work here cannot release their node', async () => {
    const f = await mesh();
    expect(await ask(f, CAROL, '!trust release @bad:hs')).toContain('is not admitted to run work');
    expect(f.room.trust.isQuarantined('@bad:hs')).toBe(true);
  });

  it('an owner who may run work releases it', async () => {
    const f = await mesh({ [CAROL]: 50 });
    expect(await ask(f, CAROL, '!trust release @bad:hs')).toContain('@bad:hs is back');
    expect(f.room.trust.isQuarantined('@bad:hs')).toBe(false);
  });
});
