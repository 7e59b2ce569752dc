/**
 * The coordinator's assignment to itself counts only as the room's order has it, as every
 * other node's does. Two nodes can claim the same term (Matrix state has no compare-and-swap;
 * a claim that lands later than the settle time finds the other claimant acting already):
 * the later claim wins, and an assignment the loser sent after it is dropped by every node.
 * The loser must not run that task and answer its `!run`: the winner handles the request too.
 *
 * A whole MeshNode in a room that gives back everything it sends (test/support/echo-room.ts).
 */
import { describe, expect, it } from 'vitest';
import { EVENT } from '../../../src/protocol/events.ts';
import { MESH_EVENT } from '../../../src/protocol/manager.ts';
import { echoRoom, LEASE_MS, RIVAL } from '../../support/echo-room.ts';
import { ROOM } from '../../support/fake-room.ts';

describe("the coordinator's assignment to itself", () => {
  it('runs once it is back from the room, and its !run gets one answer', async () => {
    const { ask, replies, runs, settled, f } = await echoRoom();
    ask();
    await settled();
    expect(f.sent.some((s) => s.type === EVENT.assign)).toBe(true);
    expect(runs).toEqual(['hello']);
    expect(replies()).toHaveLength(1);
  });

  it('is not run when the room put another claim of its term before it', async () => {
    const { ask, node, replies, runs, settled, f, slipIn } = await echoRoom();
    // The rival did not see this node's claim in time and claimed term 1 too; its claim
    // reached the room after this node's had settled, but before this node's assignment.
    let slipped = false;
    slipIn((type) => {
      if (type !== EVENT.assign || slipped) return [];
      slipped = true;
      const lease = { holder: RIVAL, term: 1, leaseMs: LEASE_MS, renewal: 1 };
      return [{ sender: RIVAL, type: MESH_EVENT.lease, content: lease, key: '' }];
    });
    ask();
    await settled();
    expect(slipped).toBe(true);
    expect(f.logs.some((l) => l.includes('assignment from an old term rejected'))).toBe(true);
    expect(node.coordinatorOf(ROOM)).toMatchObject({ holder: RIVAL, term: 1, acting: false });
    // The rival, the holder of term 1 in every node's eyes, handles the request: not this node.
    expect(replies()).toEqual([]);
    expect(runs).toEqual([]);
  });
});
