import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import { sha512 } from 'multiformats/hashes/sha2';
import { afterEach, describe, expect, it } from 'vitest';
import { MeshError } from '../../../src/errors/index.ts';
import {
  type BlockFetcher,
  cidFromString,
  createStore,
  type LocalStore,
} from '../../../src/store/index.ts';

const bytes = (s: string) => new TextEncoder().encode(s);
const cleanups: (() => Promise<void>)[] = [];

async function newStore(
  opts: { listen?: string[]; fetchBudgetMs?: number; bitswapBudgetMs?: number } = {},
): Promise<LocalStore> {
  const dir = await mkdtemp(join(tmpdir(), 'meshbot-store-'));
  const store = createStore({ dir, ...opts });
  await store.start();
  cleanups.push(async () => {
    await store.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return store;
}

/** A fetcher that reads from another node's store, as the Matrix path would. */
const from = (peer: LocalStore, name = 'peer'): BlockFetcher => ({
  name,
  fetch: (cid, { signal }) => peer.getBlock(cid, { signal, offline: true }),
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('store', () => {
  it('keeps blocks across a stop and start on the same directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-store-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const first = createStore({ dir });
    await first.start();
    await first.start(); // idempotent
    const file = await first.addBytes(bytes('persisted'));
    const dag = await first.putDag({ hello: 'world', file });
    await first.stop();
    await first.stop(); // idempotent
    await expect(first.getBlock(dag)).rejects.toMatchObject({ code: 'NOT_STARTED' });

    const again = createStore({ dir });
    await again.start();
    cleanups.push(() => again.stop());
    expect(await again.hasBlock(dag)).toBe(true);
    expect(await again.getDag(dag, { offline: true })).toEqual({ hello: 'world', file });
    expect(new TextDecoder().decode(await again.cat(file, { offline: true }))).toBe('persisted');
  });

  it('gives the same CID for the same bytes on two nodes', async () => {
    const [a, b] = [await newStore(), await newStore()];
    const big = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 31) % 251);
    for (const content of [bytes('small'), big]) {
      const [ca, cb] = [await a.addBytes(content), await b.addBytes(content)];
      expect(ca.toString()).toBe(cb.toString());
      expect(ca.version).toBe(1);
    }
    expect((await a.addBytes(bytes('small'))).code).toBe(0x55); // one block: a raw leaf
    expect(Buffer.from(await b.cat(await b.addBytes(big))).equals(Buffer.from(big))).toBe(true);
  });

  it('fetches a missing block through a fetcher, verifies and keeps it', async () => {
    const [alice, bob] = [await newStore(), await newStore()];
    const big = new Uint8Array(2 * 1024 * 1024 + 5).map((_, i) => i % 13);
    const file = await alice.addBytes(big);
    await expect(bob.getBlock(file)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const calls: string[] = [];
    bob.addFetcher({
      name: 'empty',
      fetch: async (cid) => {
        calls.push(`empty ${cid}`);
        throw new Error('not here');
      },
    });
    bob.addFetcher(from(alice));
    expect((await bob.collect(file)).length).toBe((await alice.collect(file)).length);
    expect(Buffer.from(await bob.cat(file)).equals(Buffer.from(big))).toBe(true);
    expect(calls[0]).toBe(`empty ${file}`); // fetchers are asked in order
    for (const cid of await alice.collect(file)) expect(await bob.hasBlock(cid)).toBe(true);
  });

  it('rejects a fetcher that returns wrong bytes and stores nothing', async () => {
    const [alice, bob] = [await newStore(), await newStore()];
    const cid = await alice.putDag({ secret: 42 });
    bob.addFetcher({ name: 'liar', fetch: async () => bytes('{"secret":43}') });
    const err = await bob.getBlock(cid).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MeshError);
    expect(err).toMatchObject({ code: 'CORRUPT_BLOCK' });
    expect(await bob.hasBlock(cid)).toBe(false);
    await expect(bob.putBlock(cid, bytes('{"secret":43}'))).rejects.toMatchObject({
      code: 'CORRUPT_BLOCK',
    });
    // an honest fetcher after the liar still delivers
    bob.addFetcher(from(alice));
    expect(await bob.getDag(cid)).toEqual({ secret: 42 });
  });

  it('refuses hashes other than sha2-256', async () => {
    const store = await newStore();
    const other = CID.createV1(0x55, await sha512.digest(bytes('x')));
    await expect(store.getBlock(other)).rejects.toMatchObject({ code: 'UNSUPPORTED_CID' });
  });

  it('gives up on a silent fetcher within its budget', async () => {
    const store = await newStore({ fetchBudgetMs: 200 });
    store.addFetcher({
      name: 'silent',
      fetch: (_cid, { signal }) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
    });
    const missing = cidFromString('bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq');
    await expect(store.getBlock(missing)).rejects.toMatchObject({ code: 'TIMEOUT' });
    const caller = AbortSignal.timeout(50);
    await expect(store.getBlock(missing, { signal: caller })).rejects.toMatchObject({
      name: 'TimeoutError',
    });
  });

  it('caps cat at maxBytes', async () => {
    const store = await newStore();
    const small = await store.addBytes(new Uint8Array(1000));
    const big = await store.addBytes(new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 7));
    expect((await store.cat(small, { maxBytes: 1000 })).length).toBe(1000);
    await expect(store.cat(small, { maxBytes: 999 })).rejects.toMatchObject({ code: 'TOO_LARGE' });
    await expect(store.cat(big, { maxBytes: 1024 * 1024 })).rejects.toMatchObject({
      code: 'TOO_LARGE',
    });
    await expect(store.collect(big, { maxBlocks: 2 })).rejects.toMatchObject({ code: 'TOO_LARGE' });
  });

  it('adds a file from disk with the CID addBytes gives, and writes one back to disk', async () => {
    const [alice, bob] = [await newStore(), await newStore()];
    const dir = await mkdtemp(join(tmpdir(), 'meshbot-files-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const big = new Uint8Array(3 * 1024 * 1024 + 17).map((_, i) => (i * 7) % 253);
    for (const content of [bytes('small'), big]) {
      await writeFile(join(dir, 'in'), content);
      const fromDisk = await alice.addFile(join(dir, 'in'));
      expect(fromDisk.toString()).toBe((await bob.addBytes(content)).toString());
    }

    const file = await alice.addFile(join(dir, 'in'));
    const carol = await newStore();
    carol.addFetcher(from(alice));
    const progress: number[] = [];
    await carol.catToFile(file, join(dir, 'out', 'copy.bin'), {
      onProgress: (n) => progress.push(n),
    });
    expect(Buffer.from(await readFile(join(dir, 'out', 'copy.bin'))).equals(Buffer.from(big))).toBe(
      true,
    );
    expect(progress.at(-1)).toBe(big.length);
    expect(await carol.hasBlock(file)).toBe(true); // fetched blocks are kept

    // Too large: neither the file nor its temporary survives.
    await expect(
      carol.catToFile(file, join(dir, 'out', 'capped.bin'), { maxBytes: 1024 * 1024 }),
    ).rejects.toMatchObject({ code: 'TOO_LARGE' });
    expect(await readdir(join(dir, 'out'))).toEqual(['copy.bin']);
    // A raw block (one-chunk file) is written as is.
    const small = await alice.addBytes(bytes('small'));
    await alice.catToFile(small, join(dir, 'out', 'small.txt'));
    expect(await readFile(join(dir, 'out', 'small.txt'), 'utf8')).toBe('small');
  });

  it('rejects strings that are not CIDs', () => {
    for (const bad of ['', 'hello', 'bafy!!', 'Qm123', 'x'.repeat(2000)]) {
      expect(() => cidFromString(bad)).toThrow(/not a valid CID/);
      try {
        cidFromString(bad);
      } catch (err) {
        expect(err).toMatchObject({ code: 'BAD_INPUT' });
      }
    }
    expect(
      cidFromString(' bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq ').version,
    ).toBe(1);
  });

  it('fetches blocks over bitswap from a dialled peer on loopback TCP', async () => {
    const loopback = { listen: ['/ip4/127.0.0.1/tcp/0'], bitswapBudgetMs: 1_000 };
    const [alice, bob] = [await newStore(loopback), await newStore(loopback)];
    expect(alice.addresses()[0]).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//);
    const big = new Uint8Array(2 * 1024 * 1024 + 3).map((_, i) => i % 11);
    const file = await alice.addBytes(big);
    await bob.dial(alice.addresses()[0] as string);
    expect(Buffer.from(await bob.cat(file)).equals(Buffer.from(big))).toBe(true);
    const nowhere = cidFromString('bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku');
    await expect(bob.getBlock(nowhere)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const offline = await newStore();
    expect(offline.addresses()).toEqual([]);
    await expect(offline.dial(alice.addresses()[0] as string)).rejects.toMatchObject({
      code: 'BAD_INPUT',
    });
  });
});
