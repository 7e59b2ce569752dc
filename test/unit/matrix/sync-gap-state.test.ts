/**
 * A sync whose gap is too long to back-fill whole (a laptop that slept with the bot running):
 * what the unfetched part changed in the room's state must still reach the roster, or a
 * moderator demoted then keeps running work on this node until it restarts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { UserId } from '../../../src/ids.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import { BACKFILL_MAX } from '../../../src/matrix/backfill.ts';
import { SimpleFsStorageProvider } from '../../../src/matrix/sdk.ts';
import { SyncingClient } from '../../../src/matrix/syncing-client.ts';
import type { RoomEvent } from '../../../src/matrix/types.ts';
import { fakeRoom, ROOM } from '../../support/fake-room.ts';

const SELF = '@me:hs';
const MOD = '@mod:hs';

const chat = (n: number) =>
  ({
    type: 'm.room.message',
    event_id: `$chat${n}`,
    sender: '@ann:hs',
    content: { body: `hello ${n}` },
  }) as unknown as RoomEvent;

/** The power levels after the moderator was demoted, early in the gap. */
const demotion = {
  type: 'm.room.power_levels',
  event_id: '$demote',
  sender: '@owner:hs',
  state_key: '',
  content: { users: { '@owner:hs': 100 } },
} as unknown as RoomEvent;

/** One batch: a limited timeline over a gap longer than the back-fill takes. */
async function gappyBatch(onEvent: (e: RoomEvent) => void): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'meshbot-sync-gap-'));
  const storage = new SimpleFsStorageProvider(join(dir, 'sync.json'));
  storage.setSyncToken('s_last');
  const client = new SyncingClient('http://127.0.0.1:1', 'token', storage, silentLogger);
  const internals = client as unknown as Record<string, unknown>;
  internals.userId = SELF;
  internals.lastJoinedRoomIds = [ROOM];
  let page = 0;
  // Pages of chat without end: the demotion lies further back than BACKFILL_MAX events.
  internals.doRequest = async (_method: string, path: string) => {
    if (!path.includes('/messages')) throw new Error(`unexpected request ${path}`);
    page++;
    const chunk = Array.from({ length: 100 }, (_, i) => chat(page * 100 + i));
    return { chunk, end: `p${page}` };
  };
  internals.doSync = async () => {
    client.stop();
    const timeline = { limited: true, prev_batch: 'p0', events: [chat(0)] };
    // The sync's `state`: what changed since the last sync, up to the timeline's start.
    const room = { timeline, state: { events: [demotion] } };
    return { next_batch: 's_next', rooms: { join: { [ROOM]: room } } };
  };
  const seen: string[] = [];
  client.handlers.timeline.push(async (_room, e) => {
    seen.push(e.event_id);
    onEvent(e);
  });
  const synced = new Promise<void>((resolve) => client.handlers.synced.push(async () => resolve()));
  try {
    await client.startSyncInternal();
    await synced;
    return seen;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('a gap too long to back-fill whole', () => {
  it('still brings the state it changed to the roster: a demoted moderator runs nothing', async () => {
    const f = await fakeRoom({
      self: SELF,
      members: [MOD],
      powerLevels: { '@owner:hs': 100, [MOD]: 50 },
      admission: { powerLevel: 50 },
    });
    const view = () => f.ctx.roster.view(ROOM);
    expect(f.ctx.admission.maySubmit(view(), MOD as UserId)).toBe(true);
    const seen = await gappyBatch((e) => f.ctx.roster.apply(ROOM, e));
    expect(seen.length).toBeGreaterThan(BACKFILL_MAX);
    // The state comes first: the newer events fetched may change it again.
    expect(seen[0]).toBe('$demote');
    expect(f.ctx.admission.maySubmit(view(), MOD as UserId)).toBe(false);
  });
});
