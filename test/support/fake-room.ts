/**
 * One mesh room as a node sees it, with no homeserver: a real Roster, Admission and MeshRoom
 * over a fake client that records what the node sends. For unit tests of the node's roles,
 * which take their collaborators from a NodeContext.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import { parseConfig } from '../../src/config/load.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import { taskInfo } from '../../src/coordinator/task-block.ts';
import type { EventId, RoomId, UserId } from '../../src/ids.ts';
import { createLogger } from '../../src/log/logger.ts';
import type { MeshClient, RoomEvent } from '../../src/matrix/types.ts';
import { Admission } from '../../src/mesh/admission.ts';
import { Roster } from '../../src/mesh/roster.ts';
import type { NodeContext } from '../../src/node/context.ts';
import { MeshRoom } from '../../src/node/mesh-room.ts';
import { EVENT, type NodeState } from '../../src/protocol/events.ts';
import { putTask, type Task } from '../../src/queue/task.ts';
import { createMemoryStore } from '../../src/store/memory.ts';

export const ROOM = '!mesh:hs' as RoomId;

export interface FakeRoomOptions {
  /** This node's id; a member and a node. */
  self: string;
  /** The owner in this node's config. Default @owner:hs. */
  owner?: string;
  /** Joined members besides `self` and the owner. */
  members?: string[];
  /** Members that announced themselves as nodes (with the owner named), besides `self`. */
  nodes?: Record<string, { owner: string }>;
  powerLevels?: Record<string, number>;
  /** The room's `m.room.create` content and sender (none by default). */
  create?: { sender: string; content: Record<string, unknown> };
  admission?: ConfigInput['admission'];
}

export interface FakeRoom {
  ctx: NodeContext;
  room: MeshRoom;
  /** What the node sent, in order. */
  sent: { type: string; content: Record<string, unknown> }[];
  /** The node's log lines (JSON). */
  logs: string[];
  /** An event as the timeline would deliver it. */
  event(sender: string, type: string, content: Record<string, unknown>): RoomEvent;
  /** `holder` takes the lease with `term`, as every node sees it. */
  lease(holder: string, term: number): void;
}

/** A node's announcement, as a node of these tests makes it. */
export function nodeState(owner?: string): NodeState {
  return {
    version: '0',
    engines: [],
    runtimes: [],
    cores: 1,
    arch: 'x64',
    memoryMb: 1,
    gpu: false,
    capacity: 1,
    load: 0,
    ts: 1,
    ...(owner ? { owner } : {}),
  };
}

export async function fakeRoom(opts: FakeRoomOptions): Promise<FakeRoom> {
  const owner = opts.owner ?? '@owner:hs';
  const config = await parseConfig({
    homeserver: { url: 'http://hs.invalid', accessToken: 'x' },
    owner,
    dataDir: join(tmpdir(), 'meshbot-unit-never-written'),
    ...(opts.admission ? { admission: opts.admission } : {}),
  });
  const logs: string[] = [];
  const log = createLogger({ level: 'debug', write: (l) => logs.push(l) });
  let seq = 0;
  const event = (sender: string, type: string, content: Record<string, unknown>, key?: string) =>
    ({
      type,
      event_id: `$e${++seq}` as EventId,
      sender: sender as UserId,
      origin_server_ts: Date.now(),
      content,
      ...(key === undefined ? {} : { state_key: key }),
    }) as RoomEvent;
  const nodes = { [opts.self]: { owner }, ...opts.nodes };
  const state = new Map<string, Map<string, RoomEvent>>([
    [
      EVENT.node,
      new Map(
        Object.entries(nodes).map(([n, s]) => [n, event(n, EVENT.node, nodeState(s.owner), n)]),
      ),
    ],
    [
      'm.room.power_levels',
      new Map([['', event(owner, 'm.room.power_levels', { users: opts.powerLevels ?? {} }, '')]]),
    ],
  ]);
  if (opts.create) {
    const { sender, content } = opts.create;
    state.set('m.room.create', new Map([['', event(sender, 'm.room.create', content, '')]]));
  }
  const members = new Set([opts.self, owner, ...(opts.members ?? []), ...Object.keys(nodes)]);
  const sent: FakeRoom['sent'] = [];
  const client = {
    userId: opts.self as UserId,
    joinedMembers: async () => [...members] as UserId[],
    stateOfType: async (_room: RoomId, type: string) => state.get(type) ?? new Map(),
    send: async (_room: RoomId, type: string, content: object) => {
      sent.push({ type, content: content as Record<string, unknown> });
      return `$sent${sent.length}` as EventId;
    },
    sendState: async (_room: RoomId, type: string, _key: string, content: object) => {
      sent.push({ type, content: content as Record<string, unknown> });
    },
  } as unknown as MeshClient;
  const roster = new Roster(client, log);
  await roster.load(ROOM);
  const ctx = {
    config,
    client,
    store: createMemoryStore(),
    roster,
    admission: new Admission(config),
    log,
    self: opts.self as UserId,
    signal: new AbortController().signal,
    engines: new Map(),
  } as unknown as NodeContext;
  const room = new MeshRoom(ctx, ROOM);
  const lease = (holder: string, term: number) =>
    room.election.clock.observe({ holder, term, leaseMs: 30_000, renewal: 1 }, Date.now());
  return { ctx, room, sent, logs, event: (s, t, c) => event(s, t, c), lease };
}

/**
 * A task that `@alice:hs` asked for with the request `$run`, in the room's book and assigned
 * to this node (attempt 1, term 1); `fields` change the task. Returns its id.
 */
export async function runningTask(f: FakeRoom, fields: Partial<Task> = {}): Promise<string> {
  const store = f.ctx.store;
  const text = (s: string) => store.addBytes(new TextEncoder().encode(s));
  const task: Task = {
    type: 'task',
    engine: { name: 'echo', cid: await text('engine') },
    input: await text('input'),
    params: {},
    submitter: '@alice:hs',
    room: ROOM,
    request: '$run',
    ...fields,
  };
  const id = (await putTask(store, task)).toString();
  const block = Buffer.from(await store.getBlock(CID.parse(id))).toString('base64');
  const now = Date.now();
  f.room.book.accept(id, block, taskInfo(task), now);
  f.room.book.assign(id, { worker: f.ctx.self, attempt: 1, term: 1 }, 60_000, now);
  return id;
}
