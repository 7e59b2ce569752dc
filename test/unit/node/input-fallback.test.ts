/**
 * A `!run` sent in reply to a file names no CID: the coordinator fetched the file and held it
 * alone until a worker fetched it from the mesh. When no node has it any more (that
 * coordinator went away), the worker fetches the file the request replies to from the
 * homeserver itself, and runs on it only if it is the task's input.
 */
import type { CID } from 'multiformats/cid';
import { describe, expect, it } from 'vitest';
import type { EnginePackage, RunRequest } from '../../../src/engines/types.ts';
import type { EventId } from '../../../src/ids.ts';
import { runTask } from '../../../src/node/run-task.ts';
import type { Task } from '../../../src/queue/task.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';
import { type FakeRoom, fakeRoom, ROOM } from '../../support/fake-room.ts';

const ALICE = '@alice:hs';
const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array | undefined) => new TextDecoder().decode(b);

/** A worker whose store lacks the input; the homeserver holds the request and `files`. */
async function worker(request: Record<string, unknown>, files: Record<string, Uint8Array>) {
  const f = await fakeRoom({ self: '@me:hs', members: [ALICE] });
  const downloads: string[] = [];
  const events: Record<string, Record<string, unknown>> = { $run: request };
  for (const [id, bytes] of Object.entries(files)) {
    events[id] = {
      msgtype: 'm.file',
      body: 'notes.txt',
      url: `mxc://hs/${id}`,
      info: { size: bytes.length },
    };
  }
  Object.assign(f.ctx.client, {
    getEvent: async (_room: string, id: EventId) => {
      const content = events[id];
      if (!content) throw Object.assign(new Error('not found'), { errcode: 'M_NOT_FOUND' });
      return { type: 'm.room.message', event_id: id, sender: ALICE, origin_server_ts: 0, content };
    },
    download: async (mxc: string) => {
      downloads.push(mxc);
      return files[mxc.slice('mxc://hs/'.length)] as Uint8Array;
    },
  });
  // An engine that answers with its input.
  Object.assign(f.ctx, {
    runtime: {
      download: async () => ({}) as EnginePackage,
      run: async (req: RunRequest) => ({ output: req.input, logs: [], cpuMs: 0, wallMs: 0 }),
    },
  });
  return { f, downloads };
}

/** The CID `meshbot add` gives these bytes, on another node. */
const cidOf = (bytes: Uint8Array): Promise<CID> => createMemoryStore().addBytes(bytes);

async function task(f: FakeRoom, input: CID, fields: Partial<Task> = {}): Promise<Task> {
  return {
    type: 'task',
    engine: { name: 'echo', cid: await f.ctx.store.addBytes(text('engine')) },
    input,
    params: {},
    submitter: ALICE,
    room: ROOM,
    request: '$run',
    ...fields,
  };
}

const replyTo = (id: string) => ({
  body: '!run echo',
  msgtype: 'm.text',
  'm.relates_to': { 'm.in_reply_to': { event_id: id } },
});

describe('an input no node has, that was a file posted in the room', () => {
  it('is fetched from the homeserver, from the file the request replies to', async () => {
    const notes = text('one two three\n');
    const { f, downloads } = await worker(replyTo('$file'), { $file: notes });
    const t = await task(f, await cidOf(notes));
    const outcome = await runTask(f.ctx, t, 'task-id');
    expect(str(outcome.output)).toBe('one two three\n');
    expect(downloads).toEqual(['mxc://hs/$file']);
    expect(f.logs.some((l) => l.includes('fetched it from the homeserver'))).toBe(true);
  });

  it('is not taken from a file with other bytes: the input stays not found', async () => {
    const { f } = await worker(replyTo('$file'), { $file: text('something else') });
    const t = await task(f, await cidOf(text('one two three\n')));
    await expect(runTask(f.ctx, t, 'task-id')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(f.logs.some((l) => l.includes('is not the task input'))).toBe(true);
  });

  it('is not looked for when the request replied to nothing, nor for a part', async () => {
    const notes = text('one two three\n');
    const plain = await worker({ body: '!run echo bafy', msgtype: 'm.text' }, { $file: notes });
    const t = await task(plain.f, await cidOf(notes));
    await expect(runTask(plain.f.ctx, t, 'task-id')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(plain.downloads).toEqual([]);

    const part = await worker(replyTo('$file'), { $file: notes });
    const p = await task(part.f, await cidOf(notes), { parent: await cidOf(text('parent')) });
    await expect(runTask(part.f.ctx, p, 'task-id')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(part.downloads).toEqual([]);
  });

  it("is fetched so for a replica too: its input is its task's", async () => {
    const notes = text('one two three\n');
    const { f, downloads } = await worker(replyTo('$file'), { $file: notes });
    const of = await cidOf(text('the checked task'));
    const t = await task(f, await cidOf(notes), { parent: of, replica: { of, n: 1 } });
    expect(str((await runTask(f.ctx, t, 'task-id')).output)).toBe('one two three\n');
    expect(downloads).toEqual(['mxc://hs/$file']);
  });
});
