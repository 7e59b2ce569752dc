/**
 * The isolated-vm runtime against real isolates in a real sandbox process: the repo's
 * engines give the right answers, engines get the contract src/engines/README.md describes,
 * and tasks queue and stop as they should. Hostile engines: ivm-hostile.test.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createIvmRuntime } from '../../../src/engines/ivm/index.ts';
import { createEnginePackage } from '../../../src/engines/manifest.ts';
import { engine, failure, str, text, useIvmRuntime } from './ivm-harness.ts';

const ivm = useIvmRuntime();
const { repoEngine, run, expectHealthy } = ivm;

describe('isolated-vm runtime: the repo engines', () => {
  it('wordcount counts lines, words and code points', async () => {
    const sample = 'The quick brown fox\njumps over the lazy dog.\nGrüße aus Köln — 🦊\n';
    const result = await run(repoEngine('wordcount'), text(sample));
    expect(JSON.parse(str(result.output))).toEqual({ lines: 3, words: 14, chars: 64 });
    const noNewline = await run(repoEngine('wordcount'), text('one two\nthree'));
    expect(JSON.parse(str(noNewline.output))).toEqual({ lines: 2, words: 3, chars: 13 });
    const empty = await run(repoEngine('wordcount'), text(''));
    expect(JSON.parse(str(empty.output))).toEqual({ lines: 0, words: 0, chars: 0 });
  });

  it('sha256 matches node:crypto on 1 MiB of random data and on edge lengths', async () => {
    const data = randomBytes(1024 * 1024);
    const result = await run(repoEngine('sha256'), data);
    expect(str(result.output)).toBe(createHash('sha256').update(data).digest('hex'));
    for (const n of [0, 3, 55, 56, 63, 64, 65, 119, 120, 1000]) {
      const bytes = randomBytes(n);
      const out = await run(repoEngine('sha256'), bytes);
      expect(str(out.output), `length ${n}`).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
  });

  it('echo returns its input byte for byte', async () => {
    const data = randomBytes(100_000);
    const result = await run(repoEngine('echo'), data);
    expect(Buffer.from(result.output).equals(data)).toBe(true);
  });

  it('fibsum split, map and reduce give the whitepaper answer, exactly', async () => {
    const json = (v: unknown) => text(JSON.stringify(v));
    const indices = JSON.parse(
      str((await run(repoEngine('fibsum-split'), json({ n: 10 }))).output),
    );
    expect(indices).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const values: unknown[] = [];
    for (const i of indices) {
      values.push(JSON.parse(str((await run(repoEngine('fibsum-map'), json(i))).output)));
    }
    expect(values).toEqual([1, 1, 2, 3, 5, 8, 13, 21, 34, 55]);
    const sum = await run(repoEngine('fibsum-reduce'), json(values));
    expect(JSON.parse(str(sum.output))).toBe(143);
    const f100 = await run(repoEngine('fibsum-map'), json({ i: 100 }));
    expect(JSON.parse(str(f100.output))).toBe('354224848179261915075');
    const big = await run(repoEngine('fibsum-reduce'), json(['354224848179261915075', 1]));
    expect(JSON.parse(str(big.output))).toBe('354224848179261915076');
    const bad = await failure(run(repoEngine('fibsum-split'), json({ n: -1 })));
    expect(bad.err.code).toBe('ENGINE_FAILED');
  });

  it('noop returns nothing and sleep burns the CPU time it is asked for', async () => {
    expect((await run(repoEngine('noop'), text('x'))).output.byteLength).toBe(0);
    const slept = await run(repoEngine('sleep'), text(''), { params: { ms: '50' } });
    expect(str(slept.output)).toBe('ok');
    expect(slept.cpuMs).toBeGreaterThanOrEqual(45);
    const bad = await failure(run(repoEngine('sleep'), text(''), { params: { ms: 'soon' } }));
    expect(bad.err.code).toBe('ENGINE_FAILED');
  });
});

describe('isolated-vm runtime: the engine contract', () => {
  it('gives each task a Math.random of its own, uniform on [0, 1)', async () => {
    const pkg = engine(`function main() {
      const xs = Array.from({ length: 2000 }, () => Math.random());
      const ok = xs.every((x) => x >= 0 && x < 1);
      const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
      return JSON.stringify({ ok, distinct: new Set(xs).size, mean, first: xs[0] });
    }`);
    const a = JSON.parse(str((await run(pkg)).output));
    const b = JSON.parse(str((await run(pkg)).output));
    for (const r of [a, b]) {
      expect(r.ok).toBe(true);
      expect(r.distinct).toBe(2000);
      expect(Math.abs(r.mean - 0.5)).toBeLessThan(0.05);
    }
    expect(a.first).not.toBe(b.first);
  });

  it('hands bytes input on a buffer of its own', async () => {
    const pkg = engine(
      'function main(input) { return [input.byteOffset, input.buffer.byteLength].join(); }',
    );
    expect(str((await run(pkg, text('abc'))).output)).toBe('0,3');
  });

  it('hands json input as a value and params as strings; encodes JSON output', async () => {
    const pkg = engine(
      'function main(input, params) { return { sum: input.a + input.b, p: params }; }',
      {
        input: 'json',
      },
    );
    const result = await run(pkg, text('{"a":2,"b":3}'), { params: { mode: 'fast' } });
    expect(JSON.parse(str(result.output))).toEqual({ sum: 5, p: { mode: 'fast' } });
    const bad = await failure(run(pkg, text('{not json')));
    expect(bad.err.code).toBe('ENGINE_BAD_INPUT');
  });

  it('awaits an async main and accepts bytes output', async () => {
    const pkg = engine(
      'const main = async (input) => { await null; return input.subarray(1, 3); };',
    );
    const result = await run(pkg, new Uint8Array([9, 8, 7, 6]));
    expect([...result.output]).toEqual([8, 7]);
  });

  it('captures logs (capped) and forwards progress', async () => {
    const pkg = engine(`function main() {
      meshbot.log('hello', { n: 1 }, [2]);
      console.log('via console');
      meshbot.progress(0.5);
      for (let i = 0; i < 1000; i++) meshbot.log('line', i);
      meshbot.progress(1);
      return meshbot.textDecode(meshbot.textEncode('Grüße 🦊'));
    }`);
    const seen: number[] = [];
    const result = await run(pkg, text(''), { onProgress: (f) => seen.push(f) });
    expect(str(result.output)).toBe('Grüße 🦊');
    expect(result.logs[0]).toBe('hello {"n":1} [2]');
    expect(result.logs[1]).toBe('via console');
    expect(result.logs.length).toBe(200);
    expect(result.logs.at(-1)).toBe('[log truncated]');
    expect(seen).toContain(1);
  });

  it('gives every task a new top-level scope; its top level, logs and CPU count for it', async () => {
    const pkg = engine(
      'let count = 0; meshbot.log("top level");' +
        ' const started = Date.now(); while (Date.now() - started < 30) {}' +
        ' function main() { count += 1; return String(count); }',
      { limits: { cpuMs: 1000 } },
    );
    for (let i = 0; i < 3; i++) {
      const result = await run(pkg);
      expect(str(result.output)).toBe('1');
      expect(result.logs).toEqual(['top level']);
      expect(result.cpuMs).toBeGreaterThanOrEqual(25);
    }
  });

  it('runs engines in a frozen realm: globals and builtins cannot be changed', async () => {
    const attempts = [
      'globalThis.count = 1',
      'undeclared = 1',
      'Object.getPrototypeOf(function* () {}).stash = 1',
      'Function.prototype.stash = 1',
      'Math.random = () => 4',
      'JSON.parse = null',
      'Error.prepareStackTrace = (e, frames) => frames',
      'meshbot.log = null',
      'meshbot.log.caller', // the prelude is strict code
    ];
    for (const attempt of attempts) {
      const { err } = await failure(
        run(engine(`function main() { ${attempt}; return 'changed'; }`)),
      );
      expect(err.code, attempt).toBe('ENGINE_FAILED');
      expect(err.message, attempt).toMatch(/TypeError|ReferenceError/);
    }
    // The script is the body of a function: it cannot close it and run in the realm.
    const breakout = await failure(
      run(engine('}); let kept = []; (function () { function main() { return 1; }')),
    );
    expect(breakout.err.message).toContain('SyntaxError');
    await expectHealthy();
  });

  it('leaves nothing for the next task of the same engine', async () => {
    const pkg = engine(`function main(input, params) {
      const spots = {
        globalThis, ObjectPrototype: Object.prototype, ArrayPrototype: Array.prototype,
        FunctionPrototype: Function.prototype, ErrorPrototype: Error.prototype,
        Generator: Object.getPrototypeOf(function* () {}),
        ArrayIterator: Object.getPrototypeOf([].values()),
        TypedArray: Object.getPrototypeOf(Uint8Array), Math, JSON, Symbol, meshbot,
        RegExpPrototype: RegExp.prototype, MapPrototype: Map.prototype,
        StringPrototype: String.prototype, PromisePrototype: Promise.prototype,
      };
      if (params.mode === 'write') {
        const secret = meshbot.textDecode(input);
        let kept = 0;
        for (const spot of Object.values(spots)) {
          try { spot.stash = secret; kept++; } catch {}
        }
        /(s\\w+)/.exec(secret);
        // Blinds whatever would check the realm with a for-of, or iterate in the next task.
        Object.getPrototypeOf([].values()).next = () => ({ done: true });
        return kept;
      }
      const found = Object.keys(spots).filter((name) => 'stash' in spots[name]);
      for (const key of Object.getOwnPropertyNames(RegExp)) {
        if (String(RegExp[key]).includes('secret')) found.push('RegExp.' + key);
      }
      const legacyStatics = ['$1', 'input', 'lastMatch'].filter((k) => k in RegExp);
      return { found, legacyStatics, iterates: [...[1, 2]].length };
    }`);
    // Array.prototype and the other builtins V8's fast paths watch are not frozen: a task may
    // change them, and the realm it changed is not used again.
    const wrote = await run(pkg, text('a secret'), { params: { mode: 'write' } });
    expect(Number(str(wrote.output))).toBeGreaterThan(0);
    const clean = { found: [], legacyStatics: [], iterates: 2 };
    const read = await run(pkg, text(''), { params: { mode: 'read' } });
    expect(JSON.parse(str(read.output))).toEqual(clean);
    const again = await run(pkg, text(''), { params: { mode: 'read' } });
    expect(JSON.parse(str(again.output))).toEqual(clean);
  });

  it('keeps what a task leaves running out of the next task', async () => {
    const pkg = engine(`function main(_input, params) {
      if (params.mode === 'leave') {
        let later = Promise.resolve();
        for (let i = 0; i < 50; i++) later = later.then(() => {});
        later.then(() => meshbot.log('late'));
      }
      meshbot.log(params.mode);
      return [typeof FinalizationRegistry, typeof Atomics.waitAsync, typeof Atomics.wait];
    }`);
    const first = await run(pkg, text(''), { params: { mode: 'leave' } });
    expect(first.logs[0]).toBe('leave');
    expect(JSON.parse(str(first.output))).toEqual(['undefined', 'undefined', 'undefined']);
    for (let i = 0; i < 3; i++) {
      const next = await run(pkg, text(''), { params: { mode: 'next' } });
      expect(next.logs).toEqual(['next']);
    }
  });

  it('has no Atomics.wait: an engine fails at once, not as out of CPU time while off the CPU', async () => {
    // It blocked without running while isolated-vm's CPU limit, a clock, ran on: a task that
    // used no CPU at all was reported as over its CPU limit, a failure no retry would mend.
    const pkg = engine(
      `function main() {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 800);
        return 'woke';
      }`,
      { limits: { cpuMs: 500, wallMs: 5000 } },
    );
    const { err, ms } = await failure(run(pkg));
    expect(err.code).toBe('ENGINE_FAILED');
    expect(err.userMessage).toMatch(
      /^hostile failed: TypeError: .*Atomics\.wait is not a function/,
    );
    expect(ms).toBeLessThan(500);
    await expectHealthy();
  });

  it('keeps common code working in the frozen realm', async () => {
    const pkg = engine(`
      class MyError extends Error {
        constructor(message) { super(message); this.name = 'MyError'; }
      }
      function Legacy() {}
      Legacy.prototype = Object.create(Object.prototype);
      Legacy.prototype.constructor = Legacy;
      function main() {
        const custom = {};
        custom.toString = () => 'custom';
        const err = new MyError('x');
        return [
          String(custom), \`\${err.name}: \${err.message}\`, err instanceof Error,
          new Legacy().constructor === Legacy, [3, 1, 2].sort().join(''),
          new Map([[1, 2]]).get(1), Object.isFrozen(Math),
        ];
      }`);
    const result = await run(pkg);
    expect(JSON.parse(str(result.output))).toEqual([
      'custom',
      'MyError: x',
      true,
      true,
      '123',
      2,
      true,
    ]);
  });

  it('refuses engines for another runtime, with a forged CID, or off the allowlist', async () => {
    const image = `sha256:${'0'.repeat(64)}`;
    const docker = createEnginePackage(
      { ...repoEngine('echo').manifest, runtime: 'docker', image },
      '',
    );
    expect((await failure(run(docker))).err.code).toBe('ENGINE_REFUSED');
    const forged = { ...repoEngine('echo'), code: 'function main() { return "evil"; }' };
    expect((await failure(run(forged))).err.code).toBe('ENGINE_REFUSED');
    const strict = createIvmRuntime({ allowlist: ['wordcount'] });
    await strict.start();
    try {
      const err = await failure(
        strict.run({ engine: repoEngine('echo'), input: text(''), params: {} }),
      );
      expect(err.err.code).toBe('ENGINE_REFUSED');
    } finally {
      await strict.stop();
    }
    const stopped = createIvmRuntime();
    expect(
      (await failure(stopped.run({ engine: repoEngine('echo'), input: text(''), params: {} }))).err
        .code,
    ).toBe('ENGINE_REFUSED');
  });
});

describe('isolated-vm runtime: queue and lifecycle', () => {
  it('runs tasks in order and takes an aborted task out of the line', async () => {
    const sleep = repoEngine('sleep');
    const order: string[] = [];
    const controller = new AbortController();
    const first = run(sleep, text(''), { params: { ms: '100' } }).then(() => order.push('first'));
    const second = run(sleep, text(''), { params: { ms: '1' }, signal: controller.signal });
    const third = run(repoEngine('echo'), text('third')).then(() => order.push('third'));
    controller.abort();
    expect((await failure(second)).err.code).toBe('ENGINE_ABORTED');
    await Promise.all([first, third]);
    expect(order).toEqual(['first', 'third']);
  });

  it('reads params once: a getter cannot pass the check with one value and send another', async () => {
    const show = engine('function main(_input, params) { return JSON.stringify(params); }');
    const tricky = () => {
      let reads = 0;
      const params = {};
      Object.defineProperty(params, 'p', {
        enumerable: true,
        get: () => (reads++ === 0 ? 'x' : () => 'not a string'),
      });
      return params as Record<string, string>;
    };
    expect(str((await run(show, text(''), { params: tricky() })).output)).toBe('{"p":"x"}');
    // The same while a new sandbox process starts.
    process.kill(ivm.runtime.sandboxPid as number, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    expect(str((await run(show, text(''), { params: tricky() })).output)).toBe('{"p":"x"}');
    expect(str((await run(repoEngine('echo'), text('next'))).output)).toBe('next');
  });

  it('stop() ends the running and the queued tasks; start() brings it back', async () => {
    const own = createIvmRuntime();
    await own.start();
    const loop = engine('function main() { while (true) {} }', {
      limits: { cpuMs: 10_000, wallMs: 20_000 },
    });
    const running = failure(own.run({ engine: loop, input: text(''), params: {} }));
    const queued = failure(own.run({ engine: repoEngine('echo'), input: text(''), params: {} }));
    await new Promise((r) => setTimeout(r, 100));
    const pid = own.sandboxPid;
    await own.stop();
    expect((await running).err.code).toBe('ENGINE_ABORTED');
    expect((await queued).err.message).toContain('the runtime stopped');
    expect(() => process.kill(pid as number, 0)).toThrow(); // the sandbox process is gone
    await own.start();
    const again = await own.run({ engine: repoEngine('echo'), input: text('back'), params: {} });
    expect(str(again.output)).toBe('back');
    await own.stop();
  });
});
