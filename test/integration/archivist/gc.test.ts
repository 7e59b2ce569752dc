/**
 * Garbage collection on the real block store (helia over blockstore-fs): a node that keeps
 * appending and merging while it collects loses no block of its heads; `meshbot gc` on a
 * stopped node's data dir keeps its heads, its pins and what its saved tasks name, prints
 * what it freed, and refuses to run beside the node.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as dagJson from '@ipld/dag-json';
import type { CID } from 'multiformats/cid';
import { afterEach, describe, expect, it } from 'vitest';
import { GcBarrier } from '../../../src/archivist/barrier.ts';
import { GcSchedule } from '../../../src/archivist/schedule.ts';
import { parseConfig } from '../../../src/config/load.ts';
import { BookFile } from '../../../src/coordinator/book-file.ts';
import { taskInfo } from '../../../src/coordinator/task-block.ts';
import { TaskBook } from '../../../src/coordinator/task-book.ts';
import type { RoomId, UserId } from '../../../src/ids.ts';
import { createGoho, type LeafInput, openGoho } from '../../../src/lattice/index.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { MeshClient } from '../../../src/matrix/types.ts';
import { Admission } from '../../../src/mesh/admission.ts';
import { Roster } from '../../../src/mesh/roster.ts';
import { HeadsFile } from '../../../src/node/heads-file.ts';
import { createLedgers, type Ledgers } from '../../../src/node/ledgers.ts';
import { collectDataDir } from '../../../src/node/offline-gc.ts';
import { putTask, type Task } from '../../../src/queue/task.ts';
import { DAG_JSON } from '../../../src/store/cid.ts';
import { cidOf, createStore, type Store } from '../../../src/store/index.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';
import { offline } from '../../support/goho-read.ts';

const BIN = new URL('../../../bin/meshbot.js', import.meta.url).pathname;
const ROOM = '!gc:test' as RoomId;
const ME = '@me:test' as UserId;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const leaf = (who: string, i: number): LeafInput => ({
  path: `results/${who}-${i}`,
  action: 'set',
  value: i,
  author: who,
});

async function readable(store: Store, origin: CID, head: CID): Promise<number> {
  return (await (await openGoho(offline(store), origin, head)).leaves()).length;
}

/** A node's ledgers over a real store in `dataDir`, laid out as the bot lays it out. */
async function nodeIn(dataDir: string, barrier?: (raw: Store) => GcBarrier) {
  const raw = createStore({ dir: join(dataDir, 'store') });
  await raw.start();
  const guard = barrier?.(raw);
  const store = guard ? guard.guard(raw) : raw;
  const config = await parseConfig({
    homeserver: { url: 'http://hs.invalid', accessToken: 'x' },
    owner: '@owner:test',
    dataDir,
    lattice: { announceDelayMs: 60_000 },
    archive: { reportDelayMs: 60_000 },
  });
  const client = { send: async () => '$sent' } as unknown as MeshClient;
  const abort = new AbortController();
  const heads = new HeadsFile(join(dataDir, 'heads.json'));
  await heads.load();
  const ledgers: Ledgers = await createLedgers(config, {
    store,
    client,
    heads,
    log: silentLogger,
    self: ME,
    roster: new Roster(client, silentLogger),
    admission: new Admission(config),
    barrier: guard,
    signal: abort.signal,
  });
  const ledger = await ledgers.open(ROOM);
  const stop = async () => {
    // Pins still being written would land in a data dir being removed.
    await ledgers.archivist?.idle();
    abort.abort();
    ledger.hpcp.stop();
    ledgers.archivist?.stop();
    await raw.stop();
  };
  return { raw, store, ledgers, ledger, stop };
}

async function tmp(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meshbot-gc-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('garbage collection on the real block store', () => {
  it('loses no block of the heads of a node that appends and merges while it collects', async () => {
    const node = await nodeIn(await tmp(), (raw) => new GcBarrier(raw));
    cleanups.push(node.stop);
    const { ledger, ledgers, store, raw } = node;
    const results = ledger.resultsGoho;
    // A peer's replica of the same GOHO (its origin is fixed by its name).
    const peerStore = createMemoryStore();
    const replica = await createGoho(peerStore, { name: `meshbot/results/${ROOM}` });
    expect(replica.origin().equals(results.origin())).toBe(true);
    const gc = new GcSchedule({
      collect: ({ signal }) => ledgers.collectGarbage({ signal }),
      log: silentLogger,
      options: { intervalMinutes: 0 },
    });
    let freed = 0;
    let changing = true;
    const collecting = (async () => {
      while (changing) freed += (await gc.run())?.deleted ?? 0;
    })();
    for (let i = 0; i < 60; i++) {
      await ledger.append(results, [leaf(ME, i)]);
      await ledger.append(ledger.queueGoho, [leaf(ME, i)]);
      if (i % 6 === 0) {
        // The peer appends; its blocks arrive (as an announcement brings them), then merge.
        const before = replica.head();
        await replica.appendAll([leaf('@peer:test', i), leaf('@peer:test', i + 1)]);
        for (const cid of (await replica.since(before)).blocks) {
          await store.putBlock(cid, await peerStore.getBlock(cid));
        }
        await results.merge(replica.head());
      }
    }
    changing = false;
    await collecting;
    freed += (await gc.run())?.deleted ?? 0;
    expect(freed).toBeGreaterThan(0);
    expect(await readable(raw, results.origin(), results.head())).toBe(60 + 20);
    expect(await readable(raw, ledger.queueGoho.origin(), ledger.queueGoho.head())).toBe(60);

    // A node stopping while it collects: the collection ends before the store closes.
    await ledger.append(results, [leaf(ME, 1000)]);
    const last = gc.run().catch((err: unknown) => err);
    await gc.stop();
    await last;
    expect(await readable(raw, results.origin(), results.head())).toBe(81);
  });

  it('keeps a stopped node’s heads, pins and what its saved tasks name (meshbot gc)', async () => {
    const dir = await tmp();
    const node = await nodeIn(dir);
    const { ledger, ledgers, store } = node;
    const results = ledger.resultsGoho;
    await ledger.append(results, [leaf(ME, 0), leaf(ME, 1)]);
    const first = results.head();
    await ledger.append(results, [leaf(ME, 2)]);
    const old = results.head();
    await ledger.append(results, [leaf(ME, 3)]);
    const gone = results.head();
    for (let i = 4; i < 10; i++) await ledger.append(results, [leaf(ME, i)]);
    await ledgers.archivist?.idle();
    // Someone added a file whose bytes are those of the first version's root: the store
    // files both under one name (the multihash), so the file keeps them.
    const file = await store.addBytes(await store.getBlock(first));
    expect(file.multihash.bytes).toEqual(first.multihash.bytes);
    // A task still pending in the saved book runs an engine on the old version.
    const text = (s: string) => store.addBytes(new TextEncoder().encode(s));
    const task: Task = {
      type: 'task',
      engine: { name: 'wordcount', cid: await text('engine') },
      input: old,
      params: {},
      submitter: '@alice:test',
      room: ROOM,
      request: '$run',
    };
    const id = await putTask(store, task);
    const onFile: Task = { ...task, input: file, request: '$run2' };
    const book = new TaskBook();
    for (const t of [task, onFile]) {
      const block = dagJson.encode(t);
      await store.putDag(t);
      book.accept(
        cidOf(DAG_JSON, block).toString(),
        Buffer.from(block).toString('base64'),
        taskInfo(t),
        Date.now(),
      );
    }
    await new BookFile(join(dir, 'mesh'), ROOM).save(book.snapshot());
    const head = results.head();
    await node.stop();

    const result = await collectDataDir(dir);
    expect(result.deleted).toBeGreaterThan(0);
    const after = createStore({ dir: join(dir, 'store') });
    await after.start();
    try {
      expect(await readable(after, results.origin(), head)).toBe(10);
      expect(await readable(after, results.origin(), old)).toBe(3);
      expect(await after.hasBlock(gone)).toBe(false);
      expect(await after.hasBlock(id)).toBe(true);
      expect(await after.cat(file, { offline: true })).toEqual(await after.getBlock(first));
    } finally {
      await after.stop();
    }

    // The command line: nothing more to free now; and no collection beside a running node.
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, [BIN, 'gc', '--data-dir', dir, ...args]);
    const { stdout } = await run();
    expect(stdout).toMatch(/^freed 0 blocks of old GOHO versions \(0 bytes\); kept \d+ blocks/);
    await writeFile(join(dir, 'node.pid'), `${process.pid}\n`);
    await expect(run()).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/meshbot: the node \(pid \d+\) is running/),
    });
  });
});
