/**
 * A bot joins the rooms its owner or a user of `admission.users` invites it to, and no other:
 * a stranger's invite is ignored with a log line (else anyone could pull a node into a room
 * of theirs and have it run their work).
 */
import { describe, expect, it } from 'vitest';
import { fakeNode } from '../../support/fake-node.ts';
import { ROOM } from '../../support/fake-room.ts';

async function invitedNode() {
  const n = await fakeNode({
    self: '@me:hs',
    owner: '@owner:hs',
    members: ['@stranger:hs', '@friend:hs'],
    admission: { users: ['@friend:hs'] },
  });
  const joined: string[] = [];
  const entered: string[] = [];
  Object.assign(n.f.ctx.client, {
    join: async (room: string) => {
      joined.push(room);
    },
  });
  const enterRoom = n.node.enterRoom.bind(n.node);
  n.node.enterRoom = async (room) => {
    entered.push(room);
    return enterRoom(room);
  };
  return { ...n, joined, entered };
}

describe('invites', () => {
  it("ignores a stranger's invite, with a log line", async () => {
    const n = await invitedNode();
    await n.invite('@stranger:hs');
    expect(n.joined).toEqual([]);
    expect(n.entered).toEqual([]);
    expect(n.f.logs.some((l) => l.includes('invite from a user who is not admitted'))).toBe(true);
  });

  it.each([
    ['its owner', '@owner:hs'],
    ['a user of admission.users', '@friend:hs'],
  ])('joins the room %s invites it to, and enters it as a mesh room', async (_, inviter) => {
    const n = await invitedNode();
    await n.invite(inviter);
    expect(n.joined).toEqual([ROOM]);
    expect(n.entered).toEqual([ROOM]);
  });
});
