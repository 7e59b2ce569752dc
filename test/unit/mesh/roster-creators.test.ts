/**
 * The power of a room's creators. From room version 12 the creators (the sender of
 * `m.room.create` and its `additional_creators`) outrank everyone and are never listed in
 * `m.room.power_levels`; in a room with no power levels event at all, the creator has 100.
 * The homeserver obeys them so: the mesh's policy must read them the same way.
 */
import { describe, expect, it } from 'vitest';
import type { EventId, RoomId, UserId } from '../../../src/ids.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { MeshClient, RoomEvent } from '../../../src/matrix/types.ts';
import { Admission } from '../../../src/mesh/admission.ts';
import { Roster } from '../../../src/mesh/roster.ts';
import { EVENT } from '../../../src/protocol/events.ts';
import { nodeState } from '../../support/fake-room.ts';

const ROOM = '!r:hs' as RoomId;
const CREATOR = '@creator:hs' as UserId;
const CO = '@co:hs' as UserId;
const PLEB = '@pleb:hs' as UserId;
const BOT = '@bot:hs' as UserId;

const stateEvent = (type: string, sender: string, key: string, content: object): RoomEvent => ({
  type,
  event_id: `$${type}-${key}` as EventId,
  sender: sender as UserId,
  origin_server_ts: 0,
  state_key: key,
  content: content as Record<string, unknown>,
});

async function roster(create: object, powerLevels?: object): Promise<Roster> {
  const state = new Map<string, RoomEvent[]>([
    ['m.room.create', [stateEvent('m.room.create', CREATOR, '', create)]],
    [EVENT.node, [stateEvent(EVENT.node, BOT, BOT, nodeState('@owner:hs'))]],
    [
      'm.room.power_levels',
      powerLevels ? [stateEvent('m.room.power_levels', CREATOR, '', powerLevels)] : [],
    ],
  ]);
  const client = {
    joinedMembers: async () => [CREATOR, CO, PLEB, BOT],
    stateOfType: async (_room: RoomId, type: string) =>
      new Map((state.get(type) ?? []).map((e) => [e.state_key ?? '', e])),
  } as unknown as MeshClient;
  const r = new Roster(client, silentLogger);
  await r.load(ROOM);
  return r;
}

const moderatorsOnly = new Admission({
  owner: '@owner:hs',
  admission: { users: [], powerLevel: 50 },
});

describe('the creators of a room of version 12', () => {
  const create = { room_version: '12', additional_creators: [CO] };
  // What a v12 room's power levels look like: its creators are not in `users`.
  const powerLevels = { users: { [BOT]: 50 }, users_default: 0 };

  it('may run work where moderators may', async () => {
    const r = await roster(create, powerLevels);
    const view = r.view(ROOM);
    expect(moderatorsOnly.maySubmit(view, CREATOR)).toBe(true);
    expect(moderatorsOnly.maySubmit(view, CO)).toBe(true);
    expect(moderatorsOnly.refusal(view, CREATOR)).toBeNull();
    expect(moderatorsOnly.maySubmit(view, PLEB)).toBe(false);
  });

  it('withdraw a node when they delete its announcement, as the homeserver does', async () => {
    const r = await roster(create, powerLevels);
    const redaction = {
      ...stateEvent('m.room.redaction', CO, 'x', { redacts: `$${EVENT.node}-${BOT}` }),
      state_key: undefined,
    };
    expect(r.redact(ROOM, redaction)).toBe(BOT);
  });

  it('keep their power when the power levels change', async () => {
    const r = await roster(create, powerLevels);
    r.apply(ROOM, stateEvent('m.room.power_levels', CREATOR, '', { users: {}, redact: 50 }));
    expect(moderatorsOnly.maySubmit(r.view(ROOM), CREATOR)).toBe(true);
  });
});

describe('the creator of an older room', () => {
  it('has 100 while the room has no power levels event, like the homeserver says', async () => {
    const r = await roster({ room_version: '10', creator: CREATOR });
    expect(moderatorsOnly.maySubmit(r.view(ROOM), CREATOR)).toBe(true);
    expect(moderatorsOnly.maySubmit(r.view(ROOM), PLEB)).toBe(false);
  });

  it('has only the level the power levels give once there are some', async () => {
    const r = await roster({ room_version: '10', creator: CREATOR }, { users: {} });
    expect(moderatorsOnly.maySubmit(r.view(ROOM), CREATOR)).toBe(false);
  });
});

it("reads the room's power levels from state key '' only, as the homeserver does", async () => {
  const r = await roster({ room_version: '10', creator: CREATOR }, { users: { [PLEB]: 0 } });
  r.apply(ROOM, stateEvent('m.room.power_levels', CREATOR, 'x', { users: { [PLEB]: 100 } }));
  expect(moderatorsOnly.maySubmit(r.view(ROOM), PLEB)).toBe(false);
});

it('reads power levels written as strings, as rooms before version 10 allow', async () => {
  const r = await roster(
    { room_version: '9', creator: CREATOR },
    { users: { [PLEB]: '0', [CO]: '50' }, users_default: '50', redact: '50' },
  );
  expect(moderatorsOnly.maySubmit(r.view(ROOM), PLEB)).toBe(false);
  expect(moderatorsOnly.maySubmit(r.view(ROOM), CO)).toBe(true);
});
