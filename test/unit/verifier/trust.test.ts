import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadInputError, MeshError } from '../../../src/errors/index.ts';
import { TrustBook } from '../../../src/verifier/trust.ts';
import { nodeTrustSchema, trustSnapshotSchema } from '../../../src/verifier/types.ts';

const ALICE = '@alice-bot:example.org';
const BOB = '@bob-bot:example.org';

function agreeTimes(book: TrustBook, node: string, n: number): void {
  for (let i = 0; i < n; i++) book.agreed(node, i);
}

describe('trust a node earns', () => {
  it('a new node is untrusted until it has warm-up agreeing results in a row', () => {
    const book = new TrustBook({ warmup: 3 });
    expect(book.isTrusted(ALICE)).toBe(false);
    expect(book.get(ALICE)).toMatchObject({ node: ALICE, owner: ALICE, streak: 0 });
    agreeTimes(book, ALICE, 2);
    expect(book.isTrusted(ALICE)).toBe(false);
    book.agreed(ALICE, 10);
    expect(book.isTrusted(ALICE)).toBe(true);
    expect(book.get(ALICE)).toMatchObject({ agreed: 3, streak: 3, checked: 3, lastCheckedAt: 10 });
  });

  it('a node caught with a wrong result is quarantined at once, and the room is told once', () => {
    const book = new TrustBook({ warmup: 2 });
    agreeTimes(book, BOB, 50);
    expect(book.isTrusted(BOB)).toBe(true);
    expect(book.disagreed(BOB, 'outvoted on task bafy1', 1_000)).toBe(true);
    expect(book.isQuarantined(BOB)).toBe(true);
    expect(book.isTrusted(BOB)).toBe(false);
    expect(book.get(BOB)).toMatchObject({
      quarantined: true,
      quarantinedAt: 1_000,
      reason: 'outvoted on task bafy1',
      streak: 0,
      disagreed: 1,
    });
    // A second wrong result already in flight: counted, but no second announcement.
    expect(book.disagreed(BOB, 'outvoted on task bafy2', 1_001)).toBe(false);
    expect(book.get(BOB)).toMatchObject({ disagreed: 2, reason: 'outvoted on task bafy1' });
  });

  it('an owner readmits a quarantined node, which must earn trust again from zero', () => {
    const book = new TrustBook({ warmup: 2 });
    agreeTimes(book, BOB, 5);
    book.disagreed(BOB, 'wrong', 7);
    expect(book.release(ALICE)).toBe(false);
    expect(book.release(BOB)).toBe(true);
    expect(book.release(BOB)).toBe(false);
    const t = book.get(BOB);
    expect(t).toMatchObject({ quarantined: false, streak: 0, agreed: 5, disagreed: 1 });
    expect(t.quarantinedAt).toBeUndefined();
    expect(t.reason).toBeUndefined();
    expect(book.isTrusted(BOB)).toBe(false);
    agreeTimes(book, BOB, 2);
    expect(book.isTrusted(BOB)).toBe(true);
  });

  it('unchecked and undecided results neither earn nor cost trust', () => {
    const book = new TrustBook({ warmup: 1 });
    book.unchecked(ALICE);
    book.undecided(ALICE, 3);
    expect(book.isTrusted(ALICE)).toBe(false);
    expect(book.get(ALICE)).toMatchObject({ unchecked: 1, checked: 1, agreed: 0, streak: 0 });
  });

  it('hands out copies, so a caller cannot change a node’s trust by accident', () => {
    const book = new TrustBook({ warmup: 1 });
    book.agreed(ALICE, 1);
    const t = book.get(ALICE);
    t.streak = 0;
    t.quarantined = true;
    const all = book.all();
    if (all[0]) all[0].quarantined = true;
    expect(book.isTrusted(ALICE)).toBe(true);
  });

  it('knows who owns a node, and treats peer-chosen ids like __proto__ as plain ids', () => {
    const book = new TrustBook({ warmup: 1 });
    book.setOwner(ALICE, '@alice:example.org');
    book.agreed('__proto__', 1);
    expect(book.get(ALICE).owner).toBe('@alice:example.org');
    expect(book.isTrusted('__proto__')).toBe(true);
    expect(book.all().map((t) => t.node)).toEqual([ALICE, '__proto__']);
  });
});

describe('trust survives a restart', () => {
  it('a snapshot written as JSON restores the same records and the same decisions', () => {
    const book = new TrustBook({ warmup: 2 });
    agreeTimes(book, ALICE, 3);
    book.setOwner(BOB, '@bob:example.org');
    book.disagreed(BOB, 'outvoted', 9);
    book.unchecked(ALICE);
    const json = JSON.parse(JSON.stringify(book.snapshot()));
    const restored = new TrustBook({ warmup: 2 });
    restored.restore(json);
    expect(restored.all()).toEqual(book.all());
    expect(restored.isTrusted(ALICE)).toBe(true);
    expect(restored.isQuarantined(BOB)).toBe(true);
  });

  const good = {
    node: ALICE,
    owner: '@alice:example.org',
    agreed: 3,
    disagreed: 0,
    streak: 3,
    quarantined: false,
    checked: 3,
    unchecked: 0,
  };
  const hostile: [string, unknown][] = [
    ['not an object', 'trust me'],
    ['null', null],
    ['an unknown version', { version: 2, nodes: [] }],
    ['an unknown top-level key', { version: 1, nodes: [], admin: true }],
    ['an unknown key on a node', { version: 1, nodes: [{ ...good, trusted: true }] }],
    ['a negative count', { version: 1, nodes: [{ ...good, disagreed: -1 }] }],
    ['a fractional count', { version: 1, nodes: [{ ...good, agreed: 3.5 }] }],
    ['a streak longer than its agreements', { version: 1, nodes: [{ ...good, streak: 1e6 }] }],
    ['a quarantine flag that is a string', { version: 1, nodes: [{ ...good, quarantined: 'no' }] }],
    ['a huge node id', { version: 1, nodes: [{ ...good, node: `@${'a'.repeat(10_000)}:x` }] }],
    ['the same node twice', { version: 1, nodes: [good, { ...good, streak: 0 }] }],
    ['prototype pollution', JSON.parse(`{"version":1,"nodes":[],"__proto__":{"polluted":1}}`)],
    ['too many nodes', { version: 1, nodes: Array.from({ length: 10_001 }, () => good) }],
  ];

  it.each(hostile)(
    'rejects a snapshot with %s with a typed error, keeping what it had',
    (_, bad) => {
      const book = new TrustBook({ warmup: 2 });
      agreeTimes(book, BOB, 3);
      const before = book.all();
      let thrown: unknown;
      try {
        book.restore(bad);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(BadInputError);
      expect(thrown).toBeInstanceOf(MeshError);
      expect((thrown as MeshError).code).toBe('BAD_INPUT');
      expect((thrown as MeshError).message).toMatch(/^invalid trust snapshot: /);
      expect(book.all()).toEqual(before);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    },
  );

  it('whatever happens to a node, its record stays valid and its snapshot restores', () => {
    const step = fc.oneof(
      fc.record({ op: fc.constant('agreed' as const), node: fc.constantFrom(ALICE, BOB) }),
      fc.record({ op: fc.constant('disagreed' as const), node: fc.constantFrom(ALICE, BOB) }),
      fc.record({ op: fc.constant('undecided' as const), node: fc.constantFrom(ALICE, BOB) }),
      fc.record({ op: fc.constant('unchecked' as const), node: fc.constantFrom(ALICE, BOB) }),
      fc.record({ op: fc.constant('release' as const), node: fc.constantFrom(ALICE, BOB) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
        const book = new TrustBook({ warmup: 3 });
        steps.forEach(({ op, node }, now) => {
          if (op === 'disagreed') book.disagreed(node, 'wrong', now);
          else if (op === 'agreed' || op === 'undecided') book[op](node, now);
          else book[op](node);
        });
        for (const t of book.all()) {
          expect(nodeTrustSchema.safeParse(t).success).toBe(true);
          expect(book.isTrusted(t.node)).toBe(!t.quarantined && t.streak >= 3);
        }
        expect(trustSnapshotSchema.safeParse(book.snapshot()).success).toBe(true);
      }),
    );
  });
});
