import { describe, expect, it } from 'vitest';
import { type MeshError, NotFoundError } from '../../../src/errors/index.ts';
import {
  ConditionError,
  compileCondition,
  gohoHelpers,
  type Scope,
} from '../../../src/evaluator/index.ts';

/** A map-reduce job half way through: two of three splits have results. */
const value = new Map<string, unknown>([
  ['count', 3],
  ['mapped/0', 'bafy-a'],
  ['mapped/1', 'bafy-b'],
  ['mapped/2', 'bafy-c'],
  ['results/s1', 'bafy-r1'],
  ['results/s2/part', 'bafy-r2'],
  ['name', 'whisper'],
  ['langs', ['en', 'fr']],
  ['meta', { model: 'tiny', sizes: [1, 2], nested: { ok: true } }],
]);

const scope = (vars: Record<string, unknown> = {}): Scope => ({
  vars,
  helpers: gohoHelpers({ local: value }),
});

const run = (source: string, vars: Record<string, unknown> = {}): unknown =>
  compileCondition(source).evaluate(scope(vars));

/** Asserts a ConditionError whose chat message contains every fragment. */
function expectRejected(fn: () => unknown, ...fragments: string[]): ConditionError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ConditionError);
  const err = caught as ConditionError;
  expect(err.code).toBe('BAD_CONDITION');
  expect(err.retryable).toBe(false);
  for (const f of fragments) expect(err.message).toContain(f);
  return err;
}

const compile = (source: string) => () => compileCondition(source);

describe('a task author writes conditions over a GOHO value', () => {
  it('fires when the result for a split exists', () => {
    const c = compileCondition("exist('results/' + split) && len('results/' + split) > 0");
    expect(c.holds(scope({ split: 's2' }))).toBe(true);
    expect(c.holds(scope({ split: 's3' }))).toBe(false);
    expect(c.helpersUsed).toEqual(new Set(['exist', 'len']));
    expect(c.identifiers).toEqual(new Set(['split']));
  });

  it('compares a count with the number of mapped entries', () => {
    expect(run("len('mapped') == get('count')")).toBe(true);
    expect(run("len('results') == get('count')")).toBe(false);
    expect(run("len('results') >= get('count') - 1")).toBe(true);
  });

  it('reads into values: members, indexes, list length and defaults', () => {
    expect(run("get('meta').model")).toBe('tiny');
    expect(run("get('meta')['sizes'][1]")).toBe(2);
    expect(run("get('meta').nested.ok")).toBe(true);
    expect(run("get('langs').length")).toBe(2);
    expect(run("get('name').length")).toBe(7);
    expect(run("get('missing').deep.deeper")).toBeUndefined();
    expect(run("get('missing') ?? 'none'")).toBe('none');
    expect(run("get('meta').absent")).toBeUndefined();
  });

  it('has arithmetic, string concatenation, comparisons and the conditional', () => {
    expect(run('1 + 2 * 3 - 4 / 2 % 3')).toBe(5);
    expect(run("'a' + 'b'")).toBe('ab');
    expect(run("'abc' < 'abd' && 2 <= 2 && !(3 > 4)")).toBe(true);
    expect(run("n > 1 ? 'many' : 'one'", { n: 2 })).toBe('many');
    expect(run('-x + +y', { x: 1, y: 5 })).toBe(4);
    expect(run('null ?? false || 0 || "last"')).toBe('last');
  });

  it('compares by value: strict for primitives, structural for lists and objects', () => {
    expect(run("1 == '1'")).toBe(false);
    expect(run('null == undefined')).toBe(false);
    expect(run("get('langs') == ['en', 'fr']")).toBe(true);
    expect(run("get('langs') != ['fr', 'en']")).toBe(true);
    expect(run('a === b', { a: { x: 1, y: [2] }, b: { y: [2], x: 1 } })).toBe(true);
  });

  it('short-circuits: the skipped side is never evaluated', () => {
    expect(run('false && missing')).toBe(false);
    expect(run('true || missing')).toBe(true);
    expect(run("'set' ?? missing")).toBe('set');
    expect(run('true ? 1 : missing')).toBe(1);
  });
});

describe('conditions that cannot compile are refused with a useful message', () => {
  it('reports syntax errors with their position', () => {
    const err = expectRejected(
      compile('len(x'),
      'condition "len(x"',
      'expected ")" at character 5',
    );
    expect(err.position).toBe(5);
    expectRejected(compile("'open"), 'unclosed quote');
  });

  it('refuses empty, too long and too large conditions', () => {
    expectRejected(compile('   '), 'empty');
    expectRejected(compile('x'.repeat(1001)), 'too long', '1001');
    expectRejected(() => compileCondition('a + b', { maxLength: 3 }), 'too long');
    const big = Array.from({ length: 150 }, (_, i) => `v${i}`).join(' + ');
    expectRejected(() => compileCondition(big, { maxLength: 5000 }), 'too complex', '200');
  });

  it('refuses this, new, assignment, arrow functions and several expressions', () => {
    expectRejected(compile('this'), '"this" is not allowed');
    expectRejected(compile('new Foo()'), '"new" is not allowed');
    expectRejected(compile('a = 1'), 'unexpected "="', 'use == to compare');
    expectRejected(compile('a += 1'), 'at character');
    expectRejected(compile('(() => 1)()'), 'arrow functions are not allowed');
    expectRejected(compile('a; b'), 'single expression');
    expectRejected(compile('(a, b)'), 'comma');
    expectRejected(compile('typeof a'), '"typeof" is not allowed');
  });

  it('refuses operators outside the language', () => {
    expectRejected(compile('a ** 2'), 'operator "**"');
    expectRejected(compile('a | 1'), 'operator "|"');
    expectRejected(compile('~a'), 'operator "~"');
    expectRejected(compile('[1,,2]'), 'empty array slot');
  });

  it('only calls known helpers, by name, and never uses one as a value', () => {
    expectRejected(compile("fetch('x')"), 'unknown helper "fetch"', 'exist, get, hpcp, keys, len');
    expectRejected(compile('a.b()'), 'only helpers can be called');
    expectRejected(compile('len(x)(1)'), 'only helpers can be called');
    expectRejected(compile('(x)()'), 'unknown helper "x"');
    expectRejected(compile('len'), 'helper "len" must be called');
    expectRejected(compile('len.name'), 'helper "len" must be called');
    expectRejected(() => compileCondition('len(x)', { helpers: ['only'] }), 'known helpers: only');
  });

  it('refuses prototype property names, written or computed from literals', () => {
    expectRejected(compile('x.__proto__'), '"__proto__" is not allowed');
    expectRejected(compile("x['constructor']"), '"constructor" is not allowed');
    expectRejected(compile('x.prototype'), '"prototype" is not allowed');
  });
});

describe('hostile conditions cannot escape or crash the bot', () => {
  it('refuses the classic Function-constructor escape', () => {
    expectRejected(
      compile("constructor.constructor('return process')()"),
      'only helpers can be called',
    );
    expectRejected(compile('constructor.constructor'), '"constructor" is not allowed');
  });

  it('refuses prototype keys computed at run time', () => {
    const c = compileCondition("x['__pro' + 'to__']");
    expectRejected(() => c.evaluate(scope({ x: {} })), '"__proto__" is not allowed');
  });

  it('never hands out prototype members or functions', () => {
    expect(run("get('name').toString")).toBeUndefined();
    expect(run("get('langs').map")).toBeUndefined();
    expect(run("get('meta').hasOwnProperty")).toBeUndefined();
    expect(run('f.call', { f: () => 1 })).toBeUndefined();
    expect(run('o.fn', { o: { fn: () => 1 } })).toBeUndefined();
    expect(run('d.getTime', { d: new Date(0) })).toBeUndefined();
  });

  it('survives a megabyte of source and very deep nesting', () => {
    expectRejected(compile('('.repeat(1_000_000)), 'too long');
    const deep = `${'('.repeat(10_000)}x${')'.repeat(10_000)}`;
    expectRejected(() => compileCondition(deep, { maxLength: 100_000 }), 'nested too deeply');
    const nots = `${'!'.repeat(10_000)}x`;
    expectRejected(() => compileCondition(nots, { maxLength: 100_000 }), 'condition');
    const huge = { maxLength: 100_000, maxNodes: 1_000_000 };
    expectRejected(() => compileCondition(nots, huge), 'nested too deeply');
  });

  it('stops when the step budget runs out', () => {
    const c = compileCondition('a + a + a + a + a');
    expect(c.evaluate(scope({ a: 1 }), { maxSteps: 9 })).toBe(5);
    expectRejected(() => c.evaluate(scope({ a: 1 }), { maxSteps: 8 }), 'too many steps');
  });

  it('charges a structural comparison for each value it walks', () => {
    // 3 nodes (a, b, ==); each list walks 1 + its 4 elements.
    const c = compileCondition('a == b');
    const vars = { a: [1, 2, 3, 4], b: [1, 2, 3, 4] };
    expect(c.evaluate(scope(vars), { maxSteps: 13 })).toBe(true);
    expectRejected(() => c.evaluate(scope(vars), { maxSteps: 12 }), 'too many steps');
    // Large lists compared over and over no longer fit in the default budget.
    const big = Array.from({ length: 2_000 }, (_, i) => [i, i]);
    const burn = compileCondition(Array(10).fill('a != b').join(' || '));
    expectRejected(
      () => burn.evaluate(scope({ a: big, b: structuredClone(big) })),
      'too many steps',
    );
  });

  it('caps the strings a condition can build', () => {
    const c = compileCondition('s + s');
    expect(c.evaluate(scope({ s: 'x'.repeat(32 * 1024) }))).toHaveLength(64 * 1024);
    expectRejected(() => c.evaluate(scope({ s: 'x'.repeat(40_000) })), 'string would grow');
  });
});

describe('evaluation errors say what went wrong', () => {
  it('names unknown variables', () => {
    expectRejected(() => run('ready && nope', { ready: true }), 'unknown variable "nope"');
  });

  it('refuses mixed-type arithmetic and comparisons', () => {
    expectRejected(() => run("1 + 'a'"), 'cannot add a number and a string');
    expectRejected(() => run("'a' - 1"), '"-" needs two numbers');
    expectRejected(() => run("1 < '2'"), 'cannot compare a number with a string');
    expectRejected(() => run("-'a'"), '"-" needs a number');
    expectRejected(() => run('x[o]', { x: [], o: {} }), 'property name must be');
  });

  it('wraps a helper crash, names the helper, and keeps typed errors as they are', () => {
    const helpers = {
      boom: () => {
        throw new TypeError('kaput');
      },
      later: () => {
        throw new NotFoundError('block not here yet');
      },
    };
    const opts = { helpers: ['boom', 'later'] };
    const err = expectRejected(
      () => compileCondition('boom()', opts).evaluate({ vars: {}, helpers }),
      'condition "boom()"',
      'helper "boom" failed: kaput',
    );
    expect(err.cause).toBeInstanceOf(TypeError);
    const typed = (() => {
      try {
        compileCondition('later()', opts).evaluate({ vars: {}, helpers });
      } catch (e) {
        return e;
      }
    })();
    expect(typed).toBeInstanceOf(NotFoundError);
    expect((typed as MeshError).retryable).toBe(true);
  });

  it('refuses a compiled helper that the scope does not provide', () => {
    const c = compileCondition("hpcp('o/p')");
    expectRejected(() => c.evaluate({ vars: {}, helpers: {} }), 'helper "hpcp" is not available');
  });

  it('attaches the condition source to errors raised inside helpers', () => {
    expectRejected(() => run('len(7)'), 'condition "len(7)"', 'len: the path must be a string');
  });
});
