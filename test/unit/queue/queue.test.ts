import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CID } from 'multiformats/cid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGoho, openGoho } from '../../../src/lattice/index.ts';
import {
  createQueue,
  getTask,
  putTask,
  type Queue,
  type Task,
  taskId,
} from '../../../src/queue/index.ts';
import { createStore, type LocalStore } from '../../../src/store/index.ts';

let store: LocalStore;
let dir: string;
let engine: CID;
let names = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshbot-queue-'));
  store = createStore({ dir });
  await store.start();
  engine = await store.addBytes(new TextEncoder().encode('engine code'));
});
afterAll(async () => {
  await store.stop();
  await rm(dir, { recursive: true, force: true });
});

async function newQueue(author = '@coordinator:h'): Promise<Queue> {
  return createQueue(await createGoho(store, { name: `queue-test-${names++}` }), { author });
}

async function aTask(text: string, params: Record<string, string> = {}): Promise<CID> {
  const input = await store.addBytes(new TextEncoder().encode(text));
  const task: Task = {
    type: 'task',
    engine: { name: 'whisper', cid: engine },
    input,
    params,
    submitter: '@alice:h',
    room: '!room:h',
    request: `$event-${text}`,
  };
  return putTask(store, task);
}

describe('queue', () => {
  it('gives a task the CID of its canonical block as id', async () => {
    const input = await store.addBytes(new TextEncoder().encode('audio'));
    const base = {
      type: 'task',
      engine: { name: 'whisper', cid: engine },
      input,
      submitter: '@a:h',
      room: '!r:h',
      request: '$e',
    } as const;
    const one = { ...base, params: { lang: 'en', model: 'tiny' } };
    const two = { ...base, params: { model: 'tiny', lang: 'en' } };
    expect(taskId(one)).toBe(taskId(two));
    const cid = await putTask(store, two);
    expect(cid.toString()).toBe(taskId(one));
    expect(await getTask(store, cid)).toEqual(one);
    expect(() => taskId({ ...one, params: { lang: 5 } } as unknown as Task)).toThrow(
      /invalid task/,
    );
    await expect(getTask(store, await store.putDag({ type: 'task' }))).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
  });

  it('treats a second enqueue of the same task as a no-op', async () => {
    const q = await newQueue();
    const task = await aTask('hello');
    const head = await q.enqueue(task);
    expect((await q.enqueue(task)).equals(head)).toBe(true);
    expect(q.goho.head().equals(head)).toBe(true);
    expect(await q.pending()).toEqual([task]);
    // another node enqueueing the same task concurrently still yields one entry after merge
    const other = createQueue(await openGoho(store, q.goho.origin()), { author: '@other:h' });
    await other.enqueue(task);
    await q.goho.merge(other.goho.head());
    expect(await q.pending()).toEqual([task]);
    expect(await q.status(task)).toEqual({ state: 'available', attempts: 0 });
  });

  it('hands out tasks oldest first and tracks assign and complete', async () => {
    const q = await newQueue();
    const [t1, t2, t3] = [await aTask('one'), await aTask('two'), await aTask('three')];
    expect(await q.next()).toBeNull();
    expect(await q.status(t1)).toEqual({ state: 'unknown', attempts: 0 });
    for (const t of [t1, t2, t3]) await q.enqueue(t);
    expect(await q.next()).toEqual(t1);

    await q.assign(t1, { worker: '@w1:h', term: 1, attempt: 0 });
    expect(await q.status(t1)).toEqual({ state: 'assigned', attempts: 1, worker: '@w1:h' });
    expect(await q.next()).toEqual(t2);

    // the worker died: the coordinator assigns a second attempt elsewhere
    await q.assign(t1, { worker: '@w2:h', term: 2, attempt: 1 });
    expect(await q.status(t1)).toEqual({ state: 'assigned', attempts: 2, worker: '@w2:h' });

    const result = await store.addBytes(new TextEncoder().encode('transcript'));
    await q.complete(t1, { worker: '@w2:h', ok: true, result });
    expect(await q.status(t1)).toEqual({
      state: 'completed',
      attempts: 2,
      worker: '@w2:h',
      result,
    });

    await q.complete(t2, {
      worker: '@w1:h',
      ok: false,
      error: { code: 'ENGINE_FAILED', message: 'out of memory' },
    });
    expect(await q.status(t2)).toMatchObject({
      state: 'completed',
      error: { code: 'ENGINE_FAILED' },
    });
    expect(await q.next()).toEqual(t3);
    expect(await q.pending()).toEqual([t3]);

    await q.assign(t3, { worker: '@w1:h', term: 2, attempt: 0 });
    expect(await q.next()).toBeNull();
    expect(await q.pending()).toEqual([t3]);
    await expect(q.assign(t3, { worker: '', term: -1, attempt: 0 })).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
  });

  it('keeps only the first completion of a task', async () => {
    const q = await newQueue('@w1:h');
    const task = await aTask('race');
    await q.enqueue(task);
    const first = await store.addBytes(new TextEncoder().encode('first'));
    const second = await store.addBytes(new TextEncoder().encode('second'));
    await q.complete(task, { worker: '@w1:h', ok: true, result: first });
    const head = q.goho.head();
    expect(
      (await q.complete(task, { worker: '@w1:h', ok: true, result: second })).equals(head),
    ).toBe(true);
    expect(await q.status(task)).toMatchObject({ state: 'completed', result: first });

    // two workers finish a duplicated execution on different replicas at the same clock
    const a = createQueue(await openGoho(store, q.goho.origin()), { author: '@a:h' });
    const b = createQueue(await openGoho(store, q.goho.origin()), { author: '@b:h' });
    const other = await aTask('dup');
    await a.enqueue(other);
    await b.goho.merge(a.goho.head());
    await b.complete(other, { worker: '@b:h', ok: true, result: second });
    await a.complete(other, { worker: '@a:h', ok: true, result: first });
    await a.goho.merge(b.goho.head());
    await b.goho.merge(a.goho.head());
    expect(a.goho.head().equals(b.goho.head())).toBe(true);
    for (const q2 of [a, b]) {
      expect(await q2.status(other)).toEqual({
        state: 'completed',
        attempts: 0,
        worker: '@a:h',
        result: first,
      });
    }
  });

  it('keeps its sets when a peer writes a `set` leaf on one of their paths', async () => {
    const q = await newQueue();
    const tasks = [await aTask('kept-1'), await aTask('kept-2')];
    for (const t of tasks) await q.enqueue(t);
    const peer = await openGoho(store, q.goho.origin());
    await peer.append({ path: 'available', action: 'set', value: 0, author: '@evil:h', clock: 99 });
    await q.goho.merge(peer.head());
    expect((await q.pending()).map(String)).toEqual(tasks.map(String));
    expect((await q.next())?.toString()).toBe(tasks[0]?.toString());
  });
});
