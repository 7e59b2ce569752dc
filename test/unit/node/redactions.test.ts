/**
 * A request deleted by its sender: dropped when no node took it yet, withdrawn when its task
 * has not finished (by the coordinator's cancel event, or in another node's own book), left
 * alone when it has. A deletion by anyone else does not count: the homeserver accepts a
 * redaction it will not apply from anyone on the sender's server.
 */
import { CID } from 'multiformats/cid';
import { describe, expect, it } from 'vitest';
import { TaskBook } from '../../../src/coordinator/task-book.ts';
import type { EventId, UserId } from '../../../src/ids.ts';
import { fileFromMessage } from '../../../src/matrix/file-message.ts';
import type { RoomEvent } from '../../../src/matrix/types.ts';
import { Dispatch } from '../../../src/node/dispatch.ts';
import { applyRedaction } from '../../../src/node/redactions.ts';
import { MESH_EVENT } from '../../../src/protocol/manager.ts';
import { AUDIO } from '../../../src/whisper/voice.ts';
import { type FakeRoom, fakeRoom, ROOM, runningTask } from '../../support/fake-room.ts';

const ALICE = '@alice:hs';
const MALLORY = '@mallory:hs';

/** A redaction of `id` by `sender`, in the shape of room version 11 or of the earlier ones. */
const redaction = (sender: string, id: string, v11 = true): RoomEvent =>
  ({
    type: 'm.room.redaction',
    event_id: `$redaction-${Math.random()}` as EventId,
    sender: sender as UserId,
    origin_server_ts: Date.now(),
    content: v11 ? { redacts: id } : {},
    ...(v11 ? {} : { redacts: id }),
  }) as RoomEvent;

async function room(acting: boolean): Promise<FakeRoom> {
  const f = await fakeRoom({ self: '@me:hs', members: [ALICE, MALLORY] });
  f.lease('@me:hs', 1);
  (f.room.election as { acting: () => boolean }).acting = () => acting;
  return f;
}

describe('a deleted request', () => {
  it('is not run when no node took it yet, in either shape of redaction', async () => {
    const f = await room(false);
    const requests = f.room.book.requests;
    requests.seen({ id: '$a', sender: ALICE, body: '!run echo x', seenAt: Date.now() });
    requests.seen({ id: '$b', sender: ALICE, body: '!run echo y', seenAt: Date.now() });
    expect(applyRedaction(f.ctx, f.room, redaction(ALICE, '$a'))).toBe(true);
    expect(applyRedaction(f.ctx, f.room, redaction(ALICE, '$b', false))).toBe(true);
    expect(requests.pending()).toEqual([]);
    expect(f.logs.some((l) => l.includes('deleted before any node took it'))).toBe(true);
  });

  it('counts only when its own sender deleted it', async () => {
    const f = await room(true);
    const requests = f.room.book.requests;
    requests.seen({ id: '$a', sender: ALICE, body: '!run echo x', seenAt: Date.now() });
    const id = await runningTask(f);
    expect(applyRedaction(f.ctx, f.room, redaction(MALLORY, '$a'))).toBe(false);
    expect(applyRedaction(f.ctx, f.room, redaction(MALLORY, '$run'))).toBe(false);
    expect(requests.pending().map((r) => r.id)).toEqual(['$a']);
    expect(f.room.book.get(id)?.state).toBe('assigned');
    expect(f.sent).toEqual([]);
  });

  it('withdraws its running task: the coordinator tells the room why', async () => {
    const f = await room(true);
    const id = await runningTask(f);
    expect(applyRedaction(f.ctx, f.room, redaction(ALICE, '$run'))).toBe(true);
    expect(f.room.book.get(id)?.state).toBe('cancelled');
    await new Promise((r) => setTimeout(r, 0));
    expect(f.sent).toEqual([
      {
        type: MESH_EVENT.cancel,
        content: { term: 1, tasks: [id], reason: `its request was deleted by ${ALICE}` },
      },
    ]);
  });

  it('withdraws its running task in the book of a node that does not coordinate', async () => {
    const f = await room(false);
    const id = await runningTask(f);
    expect(applyRedaction(f.ctx, f.room, redaction(ALICE, '$run'))).toBe(true);
    expect(f.room.book.get(id)?.error?.message).toBe(`its request was deleted by ${ALICE}`);
    expect(f.sent).toEqual([]);
  });

  it('is not run when deleted while the coordinator makes it into a task', async () => {
    const f = await room(true);
    const engine = (await f.ctx.store.addBytes(new TextEncoder().encode('engine'))).toString();
    const input = (await f.ctx.store.addBytes(new TextEncoder().encode('input'))).toString();
    const me = f.ctx.roster.view(ROOM)?.nodes.get('@me:hs' as UserId);
    (me as { engines: unknown[] }).engines = [
      { name: 'echo', cid: engine, runtime: 'isolated-vm' },
    ];
    // The store is slow to take the task block (a busy disk, a voice message downloading).
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const store = f.ctx.store as unknown as { putDag: (...a: unknown[]) => Promise<unknown> };
    const putDag = store.putDag.bind(store);
    store.putDag = async (...a: unknown[]) => {
      await gate;
      return putDag(...a);
    };
    const req = { id: '$run', sender: ALICE, body: `!run echo ${input}`, seenAt: Date.now() };
    f.room.book.requests.seen(req);
    const dispatching = new Dispatch(f.ctx).handle(f.room, req);
    await new Promise((r) => setTimeout(r, 10));
    applyRedaction(f.ctx, f.room, redaction(ALICE, '$run'));
    release();
    expect(await dispatching).toBeNull();
    expect(f.room.book.byRequest('$run')).toBeUndefined();
    expect(f.sent).toEqual([]);
  });

  it('makes a task of it that another node accepts later arrive cancelled', async () => {
    const f = await room(false);
    f.room.book.requests.seen({ id: '$run', sender: ALICE, body: '!run echo x', seenAt: 0 });
    // Anyone may send a redaction; a later one by someone else takes nothing back.
    applyRedaction(f.ctx, f.room, redaction(ALICE, '$run'));
    applyRedaction(f.ctx, f.room, redaction(MALLORY, '$run'));
    // The coordinator, which had not seen the deletion, accepted Alice's task meanwhile.
    const id = await runningTask(f);
    expect(f.room.book.get(id)?.state).toBe('cancelled');
    expect(f.room.book.get(id)?.error?.message).toBe(`its request was deleted by ${ALICE}`);
    // The deletion outlives a restart.
    const restored = new TaskBook();
    restored.restore(f.room.book.snapshot());
    expect(restored.requests.isDeleted('$run', ALICE)).toBe(true);
    expect(restored.requests.isDeleted('$other', ALICE)).toBe(false);
  });

  it('keeps no deletion of a message that is not a request', async () => {
    const f = await room(false);
    expect(applyRedaction(f.ctx, f.room, redaction(ALICE, '$chat'))).toBe(false);
    expect(f.room.book.snapshot().deletedRequests).toEqual([]);
  });

  it('leaves a finished task as it is', async () => {
    const f = await room(true);
    const id = await runningTask(f);
    const result = (await f.ctx.store.addBytes(new TextEncoder().encode('out'))).toString();
    f.room.book.complete('@me:hs', { task: id, attempt: 1, ok: true, result }, 3, Date.now());
    expect(applyRedaction(f.ctx, f.room, redaction(ALICE, '$run'))).toBe(false);
    expect(f.room.book.get(id)?.state).toBe('done');
  });

  it('answers `!run whisper` in reply to a deleted voice message with what happened', async () => {
    const client = {
      getEvent: async () => ({
        type: 'm.room.message',
        event_id: '$voice',
        sender: ALICE,
        origin_server_ts: 0,
        content: {},
        unsigned: { redacted_because: { type: 'm.room.redaction' } },
      }),
    };
    const deps = { client, store: { addBytes: async () => CID.parse('bafkqaaa') } };
    await expect(
      fileFromMessage(deps as never, ROOM, '$voice' as EventId, AUDIO, {
        maxBytes: 1000,
        timeoutMs: 1000,
      }),
    ).rejects.toThrow('the message this replies to was deleted');
  });
});
