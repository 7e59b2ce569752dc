/**
 * Hostile engines against the isolated-vm runtime, one case per test: each ends with a
 * typed error, within its limit and the parent's grace time, and the next task runs.
 */
import { describe, expect, it } from 'vitest';
import { residentMb } from '../../../src/engines/child/resident.ts';
import { engine, failure, str, text, useIvmRuntime } from './ivm-harness.ts';

const ivm = useIvmRuntime();
const { run, expectHealthy } = ivm;

describe('isolated-vm runtime: hostile engines', () => {
  it('stops an infinite loop at the CPU limit', async () => {
    const pkg = engine('function main() { while (true) {} }', {
      limits: { cpuMs: 500, wallMs: 5000 },
    });
    const { err, ms } = await failure(run(pkg));
    expect(err.code).toBe('ENGINE_TIMEOUT');
    // A machine so busy that the loop got under half its window's CPU says so instead.
    expect(err.userMessage).toMatch(
      /^hostile ran out of (CPU time \(limit 500 ms\)|time: it got \d+ ms of CPU in its 500 ms CPU time window)/,
    );
    expect(ms).toBeLessThan(500 + 2000);
    await expectHealthy();
  });

  it('stops an infinite loop in the top level of the script too', async () => {
    const pkg = engine('while (true) {} function main() {}', { limits: { cpuMs: 300 } });
    const { err, ms } = await failure(run(pkg));
    expect(err.code).toBe('ENGINE_TIMEOUT');
    expect(ms).toBeLessThan(300 + 2000);
    await expectHealthy();
  });

  it('stops a memory bomb at the memory limit', async () => {
    const pkg = engine(
      'function main() { const keep = []; while (true) keep.push(new Array(100000).fill(Math.random())); }',
      { limits: { memoryMb: 32, cpuMs: 5000, wallMs: 8000 } },
    );
    const { err, ms } = await failure(run(pkg));
    expect(err.code).toBe('ENGINE_MEMORY');
    expect(err.userMessage).toContain('ran out of memory (limit 32 MiB)');
    expect(ms).toBeLessThan(5000 + 2000);
    await expectHealthy();
    // ArrayBuffers live outside the V8 heap; their limit shows as a failed allocation.
    const buffers = engine(
      'function main() { const k = []; for (;;) k.push(new Uint8Array(1 << 20)); }',
      {
        limits: { memoryMb: 16 },
      },
    );
    expect((await failure(run(buffers))).err.code).toBe('ENGINE_MEMORY');
    await expectHealthy();
  });

  // What V8 does not count against the isolate's limit, the parent's guard on the sandbox
  // process's resident memory stops (the task's memoryMb plus the sandbox's own 512 MiB).
  it('stops a bomb of resizable buffers, which the isolate does not count', async () => {
    const pkg = engine(
      `function main() {
        const kept = [];
        for (;;) {
          const b = new ArrayBuffer(64 << 20, { maxByteLength: 64 << 20 });
          new Uint8Array(b).fill(1);
          kept.push(b);
        }
      }`,
      { limits: { memoryMb: 32, cpuMs: 30_000, wallMs: 40_000 } },
    );
    const { err } = await failure(run(pkg));
    expect(err.code).toBe('ENGINE_MEMORY');
    expect(err.message).toMatch(/the sandbox process held \d+ MiB/);
    expect(err.retryable).toBe(false);
    await expectHealthy();
  });

  it('stops a bomb of WebAssembly memories, which the isolate does not count', async () => {
    const pkg = engine(
      `function main() {
        const kept = [];
        for (;;) {
          const memory = new WebAssembly.Memory({ initial: 1024 });
          new Uint8Array(memory.buffer).fill(1);
          kept.push(memory);
        }
      }`,
      { limits: { memoryMb: 32, cpuMs: 30_000, wallMs: 40_000 } },
    );
    const { err } = await failure(run(pkg));
    expect(err.code).toBe('ENGINE_MEMORY');
    await expectHealthy();
  });

  it('reports a Map that outgrows the heap as out of memory, not as a crash to retry', async () => {
    const pkg = engine(
      `function main(_input, p) {
        if (p.bomb) { const m = new Map(); for (let i = 0; ; i++) m.set(i, { i }); }
        return 'quick';
      }`,
      { limits: { memoryMb: 32, cpuMs: 10_000, wallMs: 20_000 } },
    );
    // First in an asynchronous call into a new realm, then in a synchronous one (the realm's
    // last task was quick), where isolated-vm's own handler cannot run: the parent reads V8's
    // report on the sandbox's stderr instead of waiting for its kill timer.
    const first = await failure(run(pkg, text(''), { params: { bomb: '1' } }));
    expect(first.err.code).toBe('ENGINE_MEMORY');
    expect(first.err.retryable).toBe(false);
    expect(str((await run(pkg)).output)).toBe('quick');
    const second = await failure(run(pkg, text(''), { params: { bomb: '1' } }));
    expect(second.err.code).toBe('ENGINE_MEMORY');
    expect(second.err.retryable).toBe(false);
    expect(second.ms).toBeLessThan(5_000);
    await expectHealthy();
  });

  it('runs none of its code between tasks, through a getter left on Object.prototype', async () => {
    // The sandbox's check of the builtins reads property descriptors: a `get` on
    // Object.prototype would run there, outside every limit, and delay the next engine.
    const evil = engine(`function main() {
      delete Object.prototype.toLocaleString;
      Object.defineProperty(Object.prototype, 'get', {
        get() { const end = Date.now() + 3000; while (Date.now() < end); },
        configurable: true,
      });
      return 'bye';
    }`);
    expect(str((await run(evil)).output)).toBe('bye');
    const started = performance.now();
    await expectHealthy();
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('does not let tasks pile up memory in a warm realm (private fields on frozen builtins)', async () => {
    const pkg = engine(
      `class Base { constructor(o) { return o; } }
      class Stash extends Base { #kept; constructor(o, v) { super(o); this.#kept = v; } }
      function main() {
        new Stash(Math, new Uint8Array(8 << 20).fill(1));
        return 'kept';
      }`,
      { limits: { memoryMb: 64, cpuMs: 5_000, wallMs: 10_000 } },
    );
    // 8 MiB a task that no later task can reach: the realm goes once it holds half its limit.
    for (let i = 0; i < 12; i++) expect(str((await run(pkg)).output)).toBe('kept');
    await expectHealthy();
  });

  it('has no asynchronous WebAssembly API, whose callbacks would run in a later task', async () => {
    const probe = engine(`function main() {
      const wasm = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
      new WebAssembly.Instance(new WebAssembly.Module(wasm));
      return ['compile', 'instantiate', 'compileStreaming', 'instantiateStreaming', 'promising']
        .map((k) => typeof WebAssembly[k]).join();
    }`);
    expect(str((await run(probe)).output)).toBe(Array(5).fill('undefined').join());
    // A task that meant to leave a callback behind for the next one fails at once instead.
    const planter = engine(`async function main(input) {
      const wasm = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
      WebAssembly.compile(wasm).then(() => { Object.prototype.leak = meshbot.textDecode(input); });
      return 'planted';
    }`);
    const { err } = await failure(run(planter, text('secret')));
    expect(err.code).toBe('ENGINE_FAILED');
    expect(err.message).toContain('TypeError');
    await expectHealthy();
  });

  it('sends progress 1 once, however often an engine reports it', async () => {
    const pkg = engine(`function main() {
      const end = Date.now() + 200;
      while (Date.now() < end) meshbot.progress(1);
      return 'done';
    }`);
    // Twice: the second task runs in a synchronous call (see run-task.ts).
    for (let i = 0; i < 2; i++) {
      let reports = 0;
      const result = await run(pkg, text(''), { onProgress: () => reports++ });
      expect(str(result.output)).toBe('done');
      expect(reports).toBe(1);
    }
  });

  it('classifies what an async main throws as its failure, whatever its text', async () => {
    const liar = engine(
      "async function main() { throw new Error('Script execution timed out.'); }",
    );
    const lie = await failure(run(liar));
    expect(lie.err.code).toBe('ENGINE_FAILED');
    expect(lie.err.message).toContain('Script execution timed out.');
    const buffers = engine(
      'async function main() { const k = []; for (;;) k.push(new Uint8Array(1 << 20)); }',
      { limits: { memoryMb: 16 } },
    );
    expect((await failure(run(buffers))).err.code).toBe('ENGINE_MEMORY');
    await expectHealthy();
  });

  it('ends a promise that never settles at the wall limit', async () => {
    const pkg = engine('function main() { return new Promise(() => {}); }', {
      limits: { cpuMs: 500, wallMs: 800 },
    });
    const { err, ms } = await failure(run(pkg));
    expect(err.code).toBe('ENGINE_TIMEOUT');
    expect(err.userMessage).toBe('hostile ran out of time (limit 800 ms)');
    expect(ms).toBeGreaterThanOrEqual(700);
    expect(ms).toBeLessThan(800 + 2000);
    await expectHealthy();
  });

  it('reports what main threw', async () => {
    const pkg = engine(
      "function main() { meshbot.log('about to fail'); throw new TypeError('bad things'); }",
    );
    const { err } = await failure(run(pkg));
    expect(err.code).toBe('ENGINE_FAILED');
    expect(err.message).toContain('TypeError: bad things');
    expect(err.userMessage).toBe('hostile failed: TypeError: bad things');
    expect(err.logs).toEqual(['about to fail']);
    await expectHealthy();
  });

  it('has no require, process, fetch, timers or host files', async () => {
    const probes = [
      "require('fs').readFileSync('/etc/passwd', 'utf8')",
      'process.env',
      "fetch('http://example.org')",
      'setTimeout(() => {}, 1)',
      "Deno.readTextFile('/etc/passwd')",
    ];
    for (const probe of probes) {
      const { err } = await failure(run(engine(`function main() { return ${probe}; }`)));
      expect(err.code, probe).toBe('ENGINE_FAILED');
      expect(err.message, probe).toMatch(/ReferenceError: \w+ is not defined/);
    }
    const imported = await failure(
      run(engine("async function main() { return await import('node:fs'); }")),
    );
    expect(imported.err.code).toBe('ENGINE_FAILED');
    await expectHealthy();
  });

  it('refuses output over the limit, and output that is not text, bytes or JSON', async () => {
    const limits = { maxOutputBytes: 1024 * 1024 };
    const big = engine("function main() { return 'x'.repeat(2 * 1024 * 1024); }", { limits });
    expect((await failure(run(big))).err.code).toBe('ENGINE_OUTPUT');
    const bigBytes = engine('function main() { return new Uint8Array(1024 * 1024 + 1); }', {
      limits,
    });
    expect((await failure(run(bigBytes))).err.code).toBe('ENGINE_OUTPUT');
    // Multi-byte text can pass the in-isolate estimate and still be too large: the host checks.
    const wide = engine("function main() { return 'é'.repeat(600 * 1024); }", { limits });
    expect((await failure(run(wide))).err.code).toBe('ENGINE_OUTPUT');
    const fn = engine('function main() { return () => 1; }');
    expect((await failure(run(fn))).err.code).toBe('ENGINE_OUTPUT');
    await expectHealthy();
  });

  it('refuses what the runner hands back once the engine tampered with it, and keeps no such realm', async () => {
    // Uint8Array.prototype is one of the builtins harden.js leaves unfrozen: the runner's copy
    // of bytes output then gives the host whatever the engine likes. Each tampered realm holds
    // 20 MiB.
    const pkg = engine(
      `function main(input) {
        const mode = meshbot.textDecode(input);
        if (mode === 'ok') return 'fine';
        const hold = [];
        for (let i = 0; i < 20; i++) hold.push(new Uint8Array(1 << 20).fill(i + 1));
        const forged = mode === 'error'
          ? { kind: 'error', message: { toString: 0, valueOf: 0 } }
          : { kind: 'pending' };
        Uint8Array.prototype.slice = function () { return forged; };
        return new Uint8Array(new ArrayBuffer(8), 1, 2);
      }`,
      { limits: { memoryMb: 64, cpuMs: 2_000, wallMs: 10_000 } },
    );
    const pid = ivm.runtime.sandboxPid;
    const before = residentMb(pid) as number;
    for (let i = 0; i < 12; i++) {
      await run(pkg, text('ok'));
      await run(pkg, text('ok')); // the next task takes the synchronous path
      const { err } = await failure(run(pkg, text(i % 2 ? 'pending' : 'error')));
      expect(err.code).toBe('ENGINE_OUTPUT');
      expect(err.message).toContain('output is not text, bytes or JSON');
    }
    expect(ivm.runtime.sandboxPid).toBe(pid);
    // Had the 12 realms been kept, they would hold 240 MiB.
    expect((residentMb(pid) as number) - before).toBeLessThan(120);
    await expectHealthy();
  });

  it('cancels a run when the caller aborts', async () => {
    const pkg = engine('function main() { while (true) {} }', {
      limits: { cpuMs: 10_000, wallMs: 20_000 },
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const { err, ms } = await failure(run(pkg, text(''), { signal: controller.signal }));
    expect(err.code).toBe('ENGINE_ABORTED');
    expect(ms).toBeLessThan(1000);
    await expectHealthy();
  });

  // After a task of at most 100 ms, an engine's next task runs in a synchronous call
  // (run-task.ts): these check that path on its own.
  it('stops an engine that ran short tasks and then loops or eats memory, and cancels it', async () => {
    const pkg = engine(
      `function main(_input, p) {
        const kept = [];
        while (p.loop) if (p.loop === 'memory') kept.push(new Array(1e5).fill(kept.length));
        return 'short';
      }`,
      // CPU time enough for the memory loop to meet the memory limit first on a busy machine.
      { limits: { cpuMs: 1000, wallMs: 20_000, memoryMb: 32 } },
    );
    const short = async () => expect(str((await run(pkg)).output)).toBe('short');
    await short();
    const timedOut = await failure(run(pkg, text(''), { params: { loop: 'cpu' } }));
    expect(timedOut.err.code).toBe('ENGINE_TIMEOUT');
    expect(timedOut.ms).toBeLessThan(1000 + 2000);
    await short();
    const memory = await failure(run(pkg, text(''), { params: { loop: 'memory' } }));
    expect(memory.err.code).toBe('ENGINE_MEMORY');
    await short();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const aborted = await failure(
      run(pkg, text(''), { params: { loop: 'cpu' }, signal: controller.signal }),
    );
    expect(aborted.err.code).toBe('ENGINE_ABORTED');
    expect(aborted.ms).toBeLessThan(1000);
    await expectHealthy();
  });

  it('forwards progress while it runs, after short tasks too', async () => {
    const pkg = engine(`function main(_input, p) {
      const steps = Number(p.steps ?? 0);
      const started = Date.now();
      for (let i = 1; i <= steps; i++) {
        while (Date.now() - started < i * 30) {}
        meshbot.progress(i / steps);
      }
      return 'done';
    }`);
    await run(pkg); // short: the next task runs synchronously
    const seen: { fraction: number; at: number }[] = [];
    const started = performance.now();
    const result = await run(pkg, text(''), {
      params: { steps: '10' },
      onProgress: (fraction) => seen.push({ fraction, at: performance.now() - started }),
    });
    const ended = performance.now() - started;
    expect(str(result.output)).toBe('done');
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.at(-1)?.fraction).toBe(1);
    // The first report came while the task still ran (after about 30 of its 300 ms).
    expect(seen[0]?.at).toBeLessThan(ended - 100);
  });

  it('reports ENGINE_CRASHED when the sandbox process is killed mid-run', async () => {
    const pkg = engine('function main() { while (true) {} }', {
      limits: { cpuMs: 10_000, wallMs: 20_000 },
    });
    const pending = run(pkg);
    await new Promise((r) => setTimeout(r, 200));
    const pid = ivm.runtime.sandboxPid;
    expect(pid).toBeTypeOf('number');
    process.kill(pid as number, 'SIGKILL');
    const { err } = await failure(pending);
    expect(err.code).toBe('ENGINE_CRASHED');
    expect(err.retryable).toBe(true);
    await expectHealthy();
    expect(ivm.runtime.sandboxPid).not.toBe(pid);
  });

  it('kills a sandbox process that stops answering (the parent guard)', async () => {
    const pkg = engine('function main() { while (true) {} }', {
      limits: { cpuMs: 1000, wallMs: 1000 },
    });
    const pending = run(pkg);
    await new Promise((r) => setTimeout(r, 100));
    const pid = ivm.runtime.sandboxPid as number;
    // A frozen process answers nothing, not even its own wall timer.
    process.kill(pid, 'SIGSTOP');
    const { err, ms } = await failure(pending);
    expect(err.code).toBe('ENGINE_TIMEOUT');
    expect(ms).toBeLessThan(1000 + 1500 + 1000);
    await expectHealthy();
    expect(ivm.runtime.sandboxPid).not.toBe(pid);
  });
});
