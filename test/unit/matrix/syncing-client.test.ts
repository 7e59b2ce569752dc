/**
 * What a sync batch hands to the timeline handlers when the bot has just joined a room: the
 * room's history from before the join (a `!run` someone posted earlier) must never reach
 * them, whether the join is in the timeline or fell into the gap a limited sync leaves.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log/logger.ts';
import { SimpleFsStorageProvider } from '../../../src/matrix/sdk.ts';
import { SyncingClient } from '../../../src/matrix/syncing-client.ts';
import type { RoomEvent } from '../../../src/matrix/types.ts';

const BOT = '@bot:x';
const ROOM = '!r:x';

const msg = (id: string) =>
  ({
    type: 'm.room.message',
    event_id: `$${id}`,
    sender: '@ann:x',
    content: { body: id },
  }) as unknown as RoomEvent;
const member = (id: string, membership: string, prev?: string) =>
  ({
    type: 'm.room.member',
    event_id: `$${id}`,
    sender: BOT,
    state_key: BOT,
    content: { membership },
    unsigned: prev ? { prev_content: { membership: prev } } : {},
  }) as unknown as RoomEvent;

interface Scenario {
  /** Rooms the client believes joined before the batch (at start: the server's list). */
  joined: string[];
  timeline: { events: RoomEvent[]; limited?: boolean; prev_batch?: string };
  /** The gap `/messages` returns, oldest first. */
  gap?: RoomEvent[];
}

/** Runs one incremental sync batch through the client; returns what handlers saw, and fetches. */
async function runBatch(s: Scenario): Promise<{ seen: string[]; fetches: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'meshbot-sync-'));
  const storage = new SimpleFsStorageProvider(join(dir, 'sync.json'));
  storage.setSyncToken('s_last');
  const client = new SyncingClient('http://127.0.0.1:1', 'token', storage, silentLogger);
  const internals = client as unknown as Record<string, unknown>;
  internals.userId = BOT;
  internals.lastJoinedRoomIds = [...s.joined];
  let fetches = 0;
  internals.doRequest = async (_method: string, path: string) => {
    if (!path.includes('/messages')) throw new Error(`unexpected request ${path}`);
    fetches++;
    return fetches === 1 ? { chunk: [...(s.gap ?? [])].reverse(), end: 'older' } : { chunk: [] };
  };
  internals.doSync = async () => {
    client.stop();
    return { next_batch: 's_next', rooms: { join: { [ROOM]: { timeline: s.timeline } } } };
  };
  const seen: string[] = [];
  client.handlers.timeline.push(async (_room, e) => {
    seen.push(e.event_id);
  });
  const synced = new Promise<void>((resolve) => client.handlers.synced.push(async () => resolve()));
  try {
    await client.startSyncInternal();
    await synced;
    return { seen, fetches };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('a sync batch for a room the bot just joined', () => {
  it('hands on nothing from before the join when the join is in the timeline', async () => {
    // The client starts out believing the room joined: it joined, then stopped (or crashed)
    // before that batch's position was saved, so the next sync shows the room as new.
    const { seen } = await runBatch({
      joined: [ROOM],
      timeline: {
        limited: true,
        prev_batch: 'p',
        events: [msg('old-run'), member('invite', 'invite'), member('join', 'join', 'invite')],
      },
      gap: [msg('older-run')],
    });
    expect(seen).toEqual(['$join']);
  });

  it('hands on nothing from before the join when the join fell into the back-filled gap', async () => {
    const { seen } = await runBatch({
      joined: [],
      timeline: { limited: true, prev_batch: 'p', events: [msg('after-2'), msg('after-3')] },
      gap: [msg('before-run'), member('join', 'join', 'invite'), msg('after-1')],
    });
    expect(seen).toEqual(['$join', '$after-1', '$after-2', '$after-3']);
  });

  it('does not fetch the gap when the join is in the timeline (it is all from before)', async () => {
    const { seen, fetches } = await runBatch({
      joined: [],
      timeline: { limited: true, prev_batch: 'p', events: [member('join', 'join'), msg('a')] },
      gap: [msg('before-run')],
    });
    expect(seen).toEqual(['$join', '$a']);
    expect(fetches).toBe(0);
  });
});

describe('a sync batch for a room the bot was already in', () => {
  it('hands on the gap and the timeline, a profile change of the bot notwithstanding', async () => {
    // A display name change is a member event with membership "join" too, but no join.
    const { seen } = await runBatch({
      joined: [],
      timeline: {
        limited: true,
        prev_batch: 'p',
        events: [msg('b'), member('rename', 'join', 'join'), msg('c')],
      },
      gap: [msg('a')],
    });
    expect(seen).toEqual(['$a', '$b', '$rename', '$c']);
  });

  it('hands on a timeline that was not limited as it is', async () => {
    const { seen, fetches } = await runBatch({
      joined: [ROOM],
      timeline: { events: [msg('a'), msg('b')] },
    });
    expect(seen).toEqual(['$a', '$b']);
    expect(fetches).toBe(0);
  });
});
