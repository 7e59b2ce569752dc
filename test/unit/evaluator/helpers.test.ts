import { describe, expect, it } from 'vitest';
import {
  ConditionError,
  compileCondition,
  gohoHelpers,
  PathIndex,
  STANDARD_HELPERS,
} from '../../../src/evaluator/index.ts';

/** The room's Results GOHO plus a few bookkeeping paths. */
const results = new Map<string, unknown>([
  ['results/a', 'bafy-a'],
  ['results/b/x', 'bafy-bx'],
  ['results/b/y', 'bafy-by'],
  ['results/c', 'bafy-c'],
  ['segments', ['s0', 's1', 's2']],
  ['title', 'minutes'],
  ['count', 2],
]);

const h = gohoHelpers({ local: results });

function expectBadPath(fn: () => unknown, fragment: string): void {
  expect(fn).toThrow(ConditionError);
  try {
    fn();
  } catch (err) {
    expect((err as ConditionError).code).toBe('BAD_CONDITION');
    expect((err as ConditionError).message).toContain(fragment);
  }
}

describe('standard helpers read a GOHO value as a tree of paths', () => {
  it('lists the standard helper names, which the compiler knows by default', () => {
    expect([...STANDARD_HELPERS].sort()).toEqual(Object.keys(h).sort());
    expect(compileCondition("keys('results')").helpersUsed).toEqual(new Set(['keys']));
  });

  it('exist: a path with a value, or with something beneath it', () => {
    expect(h.exist('results/a')).toBe(true);
    expect(h.exist('results/b')).toBe(true);
    expect(h.exist('results')).toBe(true);
    expect(h.exist('results/d')).toBe(false);
    // A shared prefix is not a parent: `results/b` does not make `results/` + `` exist.
    expect(h.exist('res')).toBe(false);
  });

  it('len: list and string lengths, else the number of direct children', () => {
    expect(h.len('segments')).toBe(3);
    expect(h.len('title')).toBe(7);
    expect(h.len('results')).toBe(3);
    expect(h.len('results/b')).toBe(2);
    expect(h.len('results/a')).toBe('bafy-a'.length);
    expect(h.len('count')).toBe(0);
    expect(h.len('nothing/here')).toBe(0);
  });

  it('get: the value at a path, undefined when absent', () => {
    expect(h.get('results/a')).toBe('bafy-a');
    expect(h.get('segments')).toEqual(['s0', 's1', 's2']);
    expect(h.get('results')).toBeUndefined();
  });

  it('keys: the sorted names of direct children', () => {
    expect(h.keys('results')).toEqual(['a', 'b', 'c']);
    expect(h.keys('results/b')).toEqual(['x', 'y']);
    expect(h.keys('count')).toEqual([]);
  });

  it('hpcp: reads another GOHO by origin', () => {
    const other = new Map<string, unknown>([['status/done', true]]);
    const withRemote = gohoHelpers({
      local: results,
      byOrigin: (origin) => (origin === 'bafyorigin' ? other : undefined),
    });
    expect(withRemote.hpcp('bafyorigin/status/done')).toBe(true);
    expect(withRemote.hpcp('bafyorigin/status/missing')).toBeUndefined();
    expectBadPath(() => withRemote.hpcp('bafyunknown/x'), 'bafyunknown is not known here');
    expectBadPath(() => h.hpcp('bafyorigin/x'), 'not known here');
    expectBadPath(() => withRemote.hpcp('no-slash'), '"<origin>/<path>"');
    expectBadPath(() => withRemote.hpcp('/x'), '"<origin>/<path>"');
    expectBadPath(() => withRemote.hpcp('bafyorigin/'), 'hpcp: the path is empty');
  });

  it('refuses paths that are not strings, empty, with empty segments or too long', () => {
    expectBadPath(() => h.get(1), 'get: the path must be a string');
    expectBadPath(() => h.exist(''), 'exist: the path is empty');
    expectBadPath(() => h.len('results//a'), 'empty segment');
    expectBadPath(() => h.keys('results/'), 'empty segment');
    expectBadPath(() => h.get('/results'), 'empty segment');
    expectBadPath(() => h.get('p'.repeat(513)), 'longer than 512');
    expect(h.get('p'.repeat(512))).toBeUndefined();
  });
});

describe('conditions use the helpers end to end', () => {
  it('fires a reduce step once every mapped segment has a result', () => {
    const done = compileCondition("len('results') >= len('segments')");
    expect(done.holds({ vars: {}, helpers: h })).toBe(true);
    const each = compileCondition("keys('results')[0] == 'a' && hpcp(origin + '/ok')");
    const remote = new Map<string, unknown>([['ok', true]]);
    const helpers = gohoHelpers({
      local: results,
      byOrigin: (o) => (o === 'q' ? remote : undefined),
    });
    expect(each.holds({ vars: { origin: 'q' }, helpers })).toBe(true);
  });

  it('does not let a condition modify what keys() returns', () => {
    const names = h.keys('results');
    expect(Object.isFrozen(names)).toBe(true);
    expect(h.keys('results')).toBe(names);
  });
});

describe('PathIndex scales to large GOHO values', () => {
  it('indexes 10^4 paths once and answers from the index', () => {
    const big = new Map<string, unknown>();
    for (let i = 0; i < 10_000; i++) big.set(`results/${String(i).padStart(5, '0')}/out`, i);
    let scans = 0;
    const counted: ReadonlyMap<string, unknown> = Object.assign(Object.create(big), {
      has: (k: string) => big.has(k),
      get: (k: string) => big.get(k),
      keys: () => {
        scans++;
        return big.keys();
      },
    });
    const index = new PathIndex(counted);
    for (let i = 0; i < 100; i++) {
      expect(index.childCount('results')).toBe(10_000);
      expect(index.has(`results/${String(i).padStart(5, '0')}`)).toBe(true);
    }
    expect(index.childNames('results/00042')).toEqual(['out']);
    expect(scans).toBe(1);
  });
});
