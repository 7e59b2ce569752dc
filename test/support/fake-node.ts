/**
 * A whole MeshNode with no homeserver: fakeRoom's collaborators (a real Roster and Admission
 * over a fake client that records what the node sends), plus the client's sync handlers, so
 * that a test can deliver timeline events. The runtime offers no engines and the ledgers
 * keep nothing: for tests of what the node says and announces.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UserId } from '../../src/ids.ts';
import type {
  InviteHandler,
  LeaveHandler,
  RoomEvent,
  TimelineHandler,
} from '../../src/matrix/types.ts';
import { MeshNode } from '../../src/node/mesh-node.ts';
import { EVENT, type NodeState } from '../../src/protocol/events.ts';
import { type FakeRoom, type FakeRoomOptions, fakeRoom, ROOM } from './fake-room.ts';

export interface FakeNode {
  node: MeshNode;
  f: FakeRoom;
  /** Delivers an event to the node as its sync would. */
  deliver(
    sender: string,
    type: string,
    content: Record<string, unknown>,
    key?: string,
  ): Promise<void>;
  /** Tells the node it left the room (or was kicked), as its sync would. */
  leave(): Promise<void>;
  /** Tells the node `inviter` invited it into the room, as its sync would. */
  invite(inviter: string): Promise<void>;
}

export async function fakeNode(
  opts: FakeRoomOptions & {
    /** Stands in for the homeserver's answer to a state event (throw to refuse it). */
    sendState?: (type: string) => Promise<void>;
  },
): Promise<FakeNode> {
  const f = await fakeRoom(opts);
  // A node saves its rooms' books (on leaving a room, say): each fake node in a folder of its own.
  f.ctx.config.dataDir = mkdtempSync(join(tmpdir(), 'meshbot-fake-node-'));
  const timeline: TimelineHandler[] = [];
  const leave: LeaveHandler[] = [];
  const invite: InviteHandler[] = [];
  const client = f.ctx.client as unknown as Record<string, unknown>;
  const sendState = client.sendState as (...a: unknown[]) => Promise<void>;
  Object.assign(client, {
    start: async () => {},
    stop: async () => {},
    onTimeline: (h: TimelineHandler) => timeline.push(h),
    onInvite: (h: InviteHandler) => invite.push(h),
    onLeave: (h: LeaveHandler) => leave.push(h),
    onSynced: () => {},
    joinedRooms: async () => [ROOM],
    sendState: async (...args: unknown[]) => {
      await opts.sendState?.(args[1] as string);
      return sendState(...args);
    },
  });
  f.ctx.runtime = { offers: () => [], kinds: () => [] } as never;
  f.ctx.ledgers = {
    open: async () => {},
    get: () => ({ enqueue: async () => {}, assign: async () => {}, complete: async () => {} }),
    onHeadChange: () => {},
    onEvent: async () => false,
  } as never;
  const node = new MeshNode(f.ctx);
  let seq = 0;
  return {
    node,
    f,
    deliver: async (sender, type, content, key) => {
      const event = {
        ...f.event(sender, type, content),
        event_id: `$delivered${++seq}`,
        ...(key === undefined ? {} : { state_key: key }),
      } as RoomEvent;
      for (const h of timeline) await h(ROOM, event);
    },
    leave: async () => {
      for (const h of leave) await h(ROOM);
    },
    invite: async (inviter) => {
      for (const h of invite) await h(ROOM, inviter as UserId);
    },
  };
}

/** The loads a fake node announces in its node state, in order, from now on. */
export function announcedLoads(f: FakeRoom): number[] {
  const loads: number[] = [];
  const sendState = f.ctx.client.sendState.bind(f.ctx.client);
  f.ctx.client.sendState = async (room, type, key, content) => {
    if (type === EVENT.node) loads.push((content as NodeState).load);
    return sendState(room, type, key, content);
  };
  return loads;
}
