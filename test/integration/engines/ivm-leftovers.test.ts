/**
 * What one task leaves behind in the sandbox process, against the tasks after it: no callback
 * of a hostile engine runs in a later task, and no memory its warm realm keeps makes the next
 * engine fail. Found by review; each case failed before its fix.
 */
import { describe, expect, it } from 'vitest';
import { residentMb } from '../../../src/engines/child/resident.ts';
import { engine, failure, str, text, useIvmRuntime } from './ivm-harness.ts';

const ivm = useIvmRuntime();
const { run, expectHealthy } = ivm;

/** Keeps `value` for good in a frozen builtin, where no later task can read it (a private field). */
const STASH = `class Base { constructor(o) { return o; } }
  class Stash extends Base { #kept; constructor(o, v) { super(o); this.#kept = v; } }`;

/** A task of another engine that holds little itself, for a second. */
const innocent = engine(
  'function main() { const end = Date.now() + 1000; let n = 0; while (Date.now() < end) n++; return "ok"; }',
  { name: 'innocent', limits: { memoryMb: 32, cpuMs: 5000, wallMs: 10000 } },
);

describe('isolated-vm runtime: what a task leaves behind', () => {
  it("runs no callback of V8's asynchronous gc in a later task", async () => {
    // One hostile engine, two requesters. A task on the synchronous path (its realm's last
    // task was quick) asks V8 for an asynchronous collection; V8 would settle its promise
    // from a task of its own during a later task, and hand that task the first one's input.
    const pkg = engine(`
      function main(input, params) {
        if (params.plant) {
          const secret = meshbot.textDecode(input);
          const later = gc({ type: 'minor', execution: 'async' });
          if (later) later.then(() => { Array.prototype.leak = secret; });
          return 'planted';
        }
        if (params.warm) return 'warm';
        return read();
      }
      async function read() {
        await gc({ type: 'minor', execution: 'async' });
        return String([].leak);
      }`);
    for (let i = 0; i < 2; i++) {
      expect(str((await run(pkg, text(''), { params: { warm: '1' } })).output)).toBe('warm');
    }
    const planted = await run(pkg, text('secret of requester A'), { params: { plant: '1' } });
    expect(str(planted.output)).toBe('planted');
    expect(str((await run(pkg, text('input of requester B'))).output)).toBe('undefined');
  });

  it('keeps no WebAssembly memory of a warm realm past the next engine', async () => {
    const hostile = engine(
      `${STASH}
      function main() {
        const kept = [];
        for (let i = 0; i < 10; i++) {
          const m = new WebAssembly.Memory({ initial: 1024 }); // 64 MiB
          new Uint8Array(m.buffer).fill(1);
          kept.push(m);
        }
        new Stash(Math, kept);
        return 'stashed';
      }`,
      { name: 'wasm-keeper', limits: { memoryMb: 512, cpuMs: 5000, wallMs: 10000 } },
    );
    expect(str((await run(hostile)).output)).toBe('stashed');
    // Gone by the time the answer came, not some ms later: the parent sends the next task at
    // once, and its memory guard would count the rest against that task (on a busy host, the
    // innocent task below failed with ENGINE_MEMORY). 256 MiB: half of the sandbox's own 512.
    expect(residentMb(ivm.runtime.sandboxPid) ?? 0).toBeLessThan(256 + 16);
    expect(str((await run(innocent)).output)).toBe('ok');
    expect(residentMb(ivm.runtime.sandboxPid) ?? 0).toBeLessThan(400);
  });

  it('keeps no more in all warm realms together than the sandbox may hold', async () => {
    // Each realm keeps under half its limit, so each on its own passes its check.
    for (const name of ['keep-a', 'keep-b', 'keep-c']) {
      const pkg = engine(
        `${STASH}
        function main() { new Stash(Math, new Uint8Array(200 << 20).fill(1)); return 'kept'; }`,
        { name, limits: { memoryMb: 512, cpuMs: 5000, wallMs: 10000 } },
      );
      expect(str((await run(pkg)).output)).toBe('kept');
    }
    expect(str((await run(innocent)).output)).toBe('ok');
  });

  it('refuses JSON input nested too deep to copy into the isolate as bad input', async () => {
    const pkg = engine('function main(v) { return typeof v; }', { input: 'json' });
    const depth = 6_000;
    const { err } = await failure(run(pkg, text('['.repeat(depth) + ']'.repeat(depth))));
    expect(err.code).toBe('ENGINE_BAD_INPUT');
    // A string of brackets is no nesting.
    const quoted = JSON.stringify('['.repeat(depth));
    expect(str((await run(pkg, text(quoted))).output)).toBe('string');
    await expectHealthy();
  });
});
