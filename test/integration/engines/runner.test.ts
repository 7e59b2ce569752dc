/**
 * The Runner with real runtimes and real stores: it offers what this node can run, picks the
 * runtime a manifest names, refuses with a reason, downloads allowed engines by CID through
 * the store (from a peer's store, verified), and packaging is reproducible.
 */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createDockerRuntime } from '../../../src/engines/docker/index.ts';
import { EngineError } from '../../../src/engines/errors.ts';
import { createIvmRuntime } from '../../../src/engines/ivm/index.ts';
import {
  createEnginePackage,
  loadEngineFolder,
  loadEngines,
} from '../../../src/engines/manifest.ts';
import { packEngines } from '../../../src/engines/pack.ts';
import { createRunner, type Runner } from '../../../src/engines/runner.ts';
import { createLogger } from '../../../src/log/logger.ts';
import { createStore, type LocalStore } from '../../../src/store/index.ts';

const docker = inject('docker');
const ENGINES = fileURLToPath(new URL('../../../engines', import.meta.url));
const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function newStore(): Promise<LocalStore> {
  const dir = await mkdtemp(join(tmpdir(), 'meshbot-runner-'));
  const store = createStore({ dir });
  await store.start();
  cleanups.push(async () => {
    await store.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return store;
}

async function newRunner(
  opts: { allow?: string[]; store?: LocalStore; dockerSocket?: string } = {},
): Promise<Runner> {
  const runner = createRunner({
    runtimes: [
      createIvmRuntime(),
      createDockerRuntime({
        socketPath: opts.dockerSocket ?? docker?.socketPath,
        startTimeoutMs: 2000,
      }),
    ],
    store: opts.store,
    allow: opts.allow,
    downloadTimeoutMs: 3000,
  });
  await runner.start();
  cleanups.push(() => runner.stop());
  return runner;
}

async function refusal(p: Promise<unknown>): Promise<EngineError> {
  const err = await p.then(
    () => new Error('expected a refusal'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EngineError);
  expect((err as EngineError).code).toBe('ENGINE_REFUSED');
  return err as EngineError;
}

describe('the Runner', () => {
  it.skipIf(!docker)(
    'offers the engines and runtimes this node has, and runs each in its runtime',
    async () => {
      const runner = await newRunner({ store: await newStore() });
      expect(runner.kinds()).toEqual(['docker', 'isolated-vm']);
      const engines = await runner.load(await loadEngines(ENGINES));
      const offers = runner.offers();
      expect(offers.map((o) => o.name)).toContain('fibsum-docker');
      expect(offers.find((o) => o.name === 'sha256')?.runtime).toBe('isolated-vm');
      const fib = engines.get('fibsum-docker');
      expect(fib?.manifest.image).toMatch(/^sha256:/);
      const viaDocker = await runner.run({
        engine: fib as never,
        input: text('{"n":10}'),
        params: {},
      });
      expect(JSON.parse(str(viaDocker.output))).toEqual({ n: 10, sum: 143 });
      const viaIvm = await runner.run({
        engine: engines.get('sha256') as never,
        input: text('abc'),
        params: {},
      });
      expect(str(viaIvm.output)).toBe(
        'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      );
    },
  );

  it('without Docker, offers no Docker engine and refuses one, without host paths', async () => {
    const runner = await newRunner({ dockerSocket: '/nonexistent/docker.sock' });
    expect(runner.kinds()).toEqual(['isolated-vm']);
    await runner.load(await loadEngines(ENGINES));
    expect(runner.offers().map((o) => o.name)).not.toContain('fibsum-docker');
    const fib = await loadEngineFolder(join(ENGINES, 'fibsum-docker'));
    const err = await refusal(runner.run({ engine: fib, input: text('1'), params: {} }));
    expect(err.userMessage).toContain('this node has no docker runtime: it did not start here');
    // Why is in the node's log: it names a host path, and this message reaches the room.
    expect(err.userMessage).not.toContain('/nonexistent');
  });

  it('runs only what its allowlist names, and says why it refuses', async () => {
    const runner = await newRunner({ allow: ['wordcount'] });
    const engines = await runner.load(await loadEngines(ENGINES));
    expect([...engines.keys()]).toEqual(['wordcount']);
    expect(runner.offers().map((o) => o.name)).toEqual(['wordcount']);
    const sha = await loadEngineFolder(join(ENGINES, 'sha256'));
    const ran = await refusal(runner.run({ engine: sha, input: text('abc'), params: {} }));
    expect(ran.userMessage).toBe(
      "engine sha256 is not available: it is not on this node's allowlist",
    );
    const fetched = await refusal(runner.download({ name: 'sha256', cid: sha.cid }));
    expect(fetched.userMessage).toContain("not on this node's allowlist");
    const other = await refusal(runner.download({ name: 'wordcount', cid: sha.cid }));
    expect(other.userMessage).toContain('runs another version of it');
    // A package CID pins the exact code.
    const pinned = await newRunner({ allow: [sha.cid] });
    await pinned.load(await loadEngines(ENGINES));
    expect(pinned.offers()).toEqual([{ name: 'sha256', cid: sha.cid, runtime: 'isolated-vm' }]);
  });

  it('downloads an allowed engine by CID from a peer through its store, verified', async () => {
    const peer = await newStore();
    const [packed] = await packEngines(peer, { dir: ENGINES, names: ['fibsum-map'] });
    const cid = packed?.cid as string;
    const mine = await newStore();
    mine.addFetcher({
      name: 'peer',
      fetch: (c, { signal }) => peer.getBlock(c, { signal, offline: true }),
    });
    const runner = await newRunner({ store: mine, allow: [`fibsum-map@${cid}`] });
    await runner.load(new Map());
    // Offered before it is downloaded, so the coordinator can assign it here.
    expect(runner.offers()).toEqual([{ name: 'fibsum-map', cid }]);
    const pkg = await runner.download({ name: 'fibsum-map', cid });
    expect(pkg.cid).toBe(cid);
    expect(runner.offers()).toEqual([{ name: 'fibsum-map', cid, runtime: 'isolated-vm' }]);
    const out = await runner.run({ engine: pkg, input: text('10'), params: {} });
    expect(JSON.parse(str(out.output))).toBe(55);
    // A package asked for under another name is refused.
    const wrongName = await refusal(runner.download({ name: 'sha256', cid }));
    expect(wrongName.userMessage).toContain('is the engine fibsum-map');
  });

  it('refuses a download whose blocks a peer forged', async () => {
    const peer = await newStore();
    const [packed] = await packEngines(peer, { dir: ENGINES, names: ['noop'] });
    const cid = packed?.cid as string;
    const mine = await newStore();
    mine.addFetcher({ name: 'liar', fetch: async () => text('{"manifest":{},"code":"evil"}') });
    const runner = await newRunner({ store: mine, allow: [`noop@${cid}`] });
    const err = await refusal(runner.download({ name: 'noop', cid }));
    expect(err.userMessage).toContain('could not be fetched');
  });
});

describe('the Runner keeps engine logs', () => {
  it("writes an engine's log lines to the node's log, for runs that end well or not", async () => {
    const lines: string[] = [];
    const runner = createRunner({
      runtimes: [createIvmRuntime()],
      logger: createLogger({ level: 'info', write: (l) => lines.push(l) }),
    });
    await runner.start();
    cleanups.push(() => runner.stop());
    const chatty = createEnginePackage(
      {
        name: 'chatty',
        version: '1',
        runtime: 'isolated-vm',
        entry: 'main.js',
        description: 'logs',
      },
      'function main(input) { meshbot.log("working"); if (input.length) throw new Error("no"); return "ok"; }',
    );
    await runner.run({ engine: chatty, input: text(''), params: {} });
    await runner.run({ engine: chatty, input: text('x'), params: {} }).catch(() => {});
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; logs?: string[] });
    expect(logged.filter((l) => l.logs?.includes('working')).map((l) => l.msg)).toEqual([
      'engine log',
      'engine log (failed run)',
    ]);
  });
});

describe('packaging', () => {
  it('is reproducible: same files, same CID; other code, another CID', async () => {
    const a = await packEngines(await newStore(), { dir: ENGINES, names: ['sha256', 'wordcount'] });
    const b = await packEngines(await newStore(), { dir: ENGINES, names: ['sha256', 'wordcount'] });
    expect(a).toEqual(b);
    expect(a[0]?.cid).toBe((await loadEngineFolder(join(ENGINES, 'sha256'))).cid);
    const copy = await mkdtemp(join(tmpdir(), 'meshbot-engines-'));
    cleanups.push(() => rm(copy, { recursive: true, force: true }));
    await cp(join(ENGINES, 'sha256'), join(copy, 'sha256'), { recursive: true });
    const same = await packEngines(await newStore(), { dir: copy });
    expect(same[0]?.cid).toBe(a[0]?.cid);
    await writeFile(join(copy, 'sha256', 'main.js'), 'function main() { return "x"; }');
    const changed = await packEngines(await newStore(), { dir: copy });
    expect(changed[0]?.cid).not.toBe(a[0]?.cid);
  });

  it.skipIf(!docker)('pins a docker engine to its image digest', async () => {
    const [fib] = await packEngines(await newStore(), {
      dir: ENGINES,
      names: ['fibsum-docker'],
      dockerSocket: docker?.socketPath,
    });
    expect(fib?.error).toBeUndefined();
    expect(fib?.runtime).toBe('docker');
    const [again] = await packEngines(await newStore(), {
      dir: ENGINES,
      names: ['fibsum-docker'],
      dockerSocket: docker?.socketPath,
    });
    expect(again?.cid).toBe(fib?.cid);
  });
});
