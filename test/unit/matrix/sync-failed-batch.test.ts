/**
 * A sync batch whose handling failed (its gap could not be back-filled, or the book could not
 * be saved) must come again: matrix-bot-sdk moves its own position past every batch before
 * handling it, so without care the next sync would ask from after the failed batch, and the
 * `!run`s, assignments and leases in it would never reach the node. A restart would not bring
 * them back either: the next good batch saves a position past them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { silentLogger } from '../../../src/log/logger.ts';
import { SimpleFsStorageProvider } from '../../../src/matrix/sdk.ts';
import { SyncingClient } from '../../../src/matrix/syncing-client.ts';

const ROOM = '!r:x';
const msg = (id: string) => ({
  type: 'm.room.message',
  event_id: `$${id}`,
  sender: '@ann:x',
  origin_server_ts: 0,
  content: { body: id },
});

afterEach(() => {
  vi.useRealTimers();
});

it('asks for a batch whose gap could not be fetched again, and hands on all of it', async () => {
  // The SDK waits 5 to 15 s after a failed batch.
  vi.useFakeTimers({ toFake: ['setTimeout'] });
  const dir = mkdtempSync(join(tmpdir(), 'meshbot-sync-'));
  const storage = new SimpleFsStorageProvider(join(dir, 'sync.json'));
  storage.setSyncToken('s0');
  const client = new SyncingClient('http://127.0.0.1:1', 'token', storage, silentLogger);
  const internals = client as unknown as Record<string, unknown>;
  internals.userId = '@bot:x';
  internals.lastJoinedRoomIds = [ROOM];
  const asked: unknown[] = [];
  let messages = 0;
  // A homeserver that was away: the batch after it is limited, and its first /messages fails.
  const gappy = {
    next_batch: 's1',
    rooms: {
      join: { [ROOM]: { timeline: { limited: true, prev_batch: 'p', events: [msg('run')] } } },
    },
  };
  internals.doRequest = async (_method: string, path: string, qs: Record<string, unknown>) => {
    if (path.endsWith('/sync')) {
      asked.push(qs.since);
      if (asked.length >= 3) client.stop();
      return qs.since === 's0' ? structuredClone(gappy) : { next_batch: `s${asked.length}` };
    }
    if (++messages === 1) throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    return messages === 2 ? { chunk: [msg('in-gap')], end: 'older' } : { chunk: [] };
  };
  const seen: string[] = [];
  client.handlers.timeline.push(async (_room, e) => {
    seen.push(e.event_id);
  });
  try {
    const stopped = client.startSyncInternal();
    for (let i = 0; i < 10 && asked.length < 3; i++) await vi.advanceTimersByTimeAsync(5_000);
    await stopped;
    expect(asked[1]).toBe('s0');
    expect(seen).toEqual(['$in-gap', '$run']);
  } finally {
    client.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
