/**
 * A coordinator that was kicked from its mesh room and invited back: it has a new MeshRoom
 * (a new election) for the room, and its outboxes must read that one, or every assignment it
 * makes there is dropped as stale and no task starts. A whole MeshNode in a room that gives
 * back everything it sends (test/support/echo-room.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { echoRoom, LEASE_MS } from '../../support/echo-room.ts';
import { ROOM } from '../../support/fake-room.ts';

describe('a coordinator that left the room and was invited back', () => {
  it('still sends its assignments there (and runs the !run)', async () => {
    const { ask, node, replies, runs, settled, leave } = await echoRoom();
    ask();
    await vi.waitFor(() => expect(replies()).toHaveLength(1), { timeout: 10_000 });
    expect(runs).toEqual(['hello']);

    // Kicked, then invited again: MeshNode#onInvite joins and calls enterRoom.
    await leave();
    await node.enterRoom(ROOM);
    while (!node.coordinatorOf(ROOM).acting) await sleep(50);
    // The old MeshRoom's lease (by its own clock) has run out by now.
    await sleep(LEASE_MS + 500);
    expect(node.coordinatorOf(ROOM).acting).toBe(true);

    ask();
    await vi.waitFor(() => expect(replies()).toHaveLength(2), { timeout: 10_000 });
    await settled();
    // Once, not twice: the old MeshRoom's outbox sent nothing of its own.
    expect(runs).toEqual(['hello', 'hello']);
    expect(replies()).toHaveLength(2);
  }, 20_000);
});
