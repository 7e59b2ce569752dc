import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadInputError } from '../../../src/errors/index.ts';
import { decide, werComparator, wordErrorRate } from '../../../src/verifier/quorum.ts';

const CID_A = 'bafkreiaaaa';
const CID_B = 'bafkreibbbb';
const r = (node: string, value: string) => ({ node, value });

describe('a quorum settles a task by its results’ CIDs', () => {
  const opts = { quorum: 2, maxReplicas: 5 };

  it('accepts a result two nodes agree on', () => {
    expect(decide([r('alice', CID_A), r('bob', CID_A)], opts)).toEqual({
      kind: 'agreed',
      value: CID_A,
      agreeing: ['alice', 'bob'],
      dissenting: [],
    });
  });

  it('asks for one more replica when two results disagree, then names the odd one out', () => {
    const two = [r('alice', CID_A), r('mallory', CID_B)];
    expect(decide(two, opts)).toEqual({ kind: 'need-more', replicasWanted: 1 });
    expect(decide([...two, r('carol', CID_A)], opts)).toEqual({
      kind: 'agreed',
      value: CID_A,
      agreeing: ['alice', 'carol'],
      dissenting: ['mallory'],
    });
  });

  it('gives up, blaming nobody, when maxReplicas results never reach a quorum', () => {
    const spread = ['a', 'b', 'c', 'd', 'e'].map((n) => r(n, `bafk-${n}`));
    expect(decide(spread.slice(0, 4), opts)).toEqual({ kind: 'need-more', replicasWanted: 1 });
    expect(decide(spread, opts)).toEqual({ kind: 'undecided' });
    expect(decide(spread.slice(0, 3), { quorum: 2, maxReplicas: 3 })).toEqual({
      kind: 'undecided',
    });
  });

  it('breaks a tie between two quorums with one more replica', () => {
    const tie = [r('a', CID_A), r('b', CID_B), r('c', CID_A), r('d', CID_B)];
    expect(decide(tie, opts)).toEqual({ kind: 'need-more', replicasWanted: 1 });
    expect(decide([...tie, r('e', CID_B)], opts)).toMatchObject({
      kind: 'agreed',
      value: CID_B,
      dissenting: ['a', 'c'],
    });
    expect(decide(tie, { quorum: 2, maxReplicas: 4 })).toEqual({ kind: 'undecided' });
  });

  it('counts a node once, so a cheater cannot outvote others by answering twice', () => {
    const stuffed = [r('mallory', CID_B), r('mallory', CID_B), r('alice', CID_A)];
    expect(decide(stuffed, opts)).toEqual({ kind: 'need-more', replicasWanted: 1 });
  });

  it('asks for as many replicas as a larger quorum still lacks', () => {
    expect(decide([r('a', CID_A)], { quorum: 3 })).toEqual({
      kind: 'need-more',
      replicasWanted: 2,
    });
    expect(decide([], opts)).toEqual({ kind: 'need-more', replicasWanted: 2 });
    expect(() => decide([], { quorum: 0 })).toThrow(BadInputError);
  });
});

describe('whisper transcripts are compared by word error rate', () => {
  const said = 'The quick brown fox jumps over the lazy dog near the river bank today';

  it('ignores case and punctuation, and counts substituted, missing and extra words', () => {
    expect(wordErrorRate(said, said.toUpperCase().replaceAll(' ', ', '))).toBe(0);
    const words = said.split(' ').length; // 14
    expect(wordErrorRate(said, said.replace('fox', 'box'))).toBeCloseTo(1 / words);
    expect(wordErrorRate(said, said.replace('lazy ', ''))).toBeCloseTo(1 / words);
    expect(wordErrorRate(said, `${said} okay`)).toBeCloseTo(1 / (words + 1));
    expect(wordErrorRate('', '')).toBe(0);
    expect(wordErrorRate('hello there', '')).toBe(1);
  });

  it('accepts two transcripts within the threshold and outvotes a made-up one', () => {
    const same = werComparator();
    expect(same(said, said.replace('fox', 'box'))).toBe(true);
    expect(same(said, 'lorem ipsum dolor sit amet')).toBe(false);
    expect(werComparator(0)(said, said.replace('fox', 'box'))).toBe(false);
    const results = [
      r('alice', said),
      r('mallory', 'lorem ipsum dolor sit amet consectetur'),
      r('carol', said.replace('bank', 'banks')),
    ];
    const decision = decide(results, { quorum: 2, compare: same });
    expect(decision).toMatchObject({ kind: 'agreed', value: said, agreeing: ['alice', 'carol'] });
    expect(decision).toMatchObject({ dissenting: ['mallory'] });
  });

  it('blames no node whose transcript is within the threshold of one the quorum agreed on', () => {
    // The threshold is not transitive: bob is two words from carol, and carol two from
    // alice, but bob is four from alice. Carol joins alice's group (the first she matches),
    // and bob's transcript, as close to carol's as hers is to alice's, is no sign of cheating.
    const words =
      'one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty';
    const carol = words.replace('three', 'tree').replace('nine', 'nein');
    const bob = carol.replace('fifteen', 'fifty').replace('seventeen', 'seventy');
    const same = werComparator();
    expect([same(words, bob), same(words, carol), same(bob, carol)]).toEqual([false, true, true]);
    const results = [r('alice', words), r('bob', bob), r('carol', carol)];
    expect(decide(results, { quorum: 2, compare: same })).toEqual({
      kind: 'agreed',
      value: words,
      agreeing: ['alice', 'carol'],
      dissenting: [],
    });
    // A transcript far from every agreeing one is still rejected.
    const made = r('mallory', 'lorem ipsum dolor sit amet consectetur');
    expect(decide([...results, made], { quorum: 2, compare: same })).toMatchObject({
      dissenting: ['mallory'],
    });
  });

  it('is symmetric and between 0 and 1 for any pair of texts', () => {
    const text = fc
      .array(fc.constantFrom('a', 'b', 'c', 'Hello,', 'world!'), { maxLength: 12 })
      .map((w) => w.join(' '));
    fc.assert(
      fc.property(text, text, (a, b) => {
        const wer = wordErrorRate(a, b);
        expect(wer).toBe(wordErrorRate(b, a));
        expect(wer).toBeGreaterThanOrEqual(0);
        expect(wer).toBeLessThanOrEqual(1);
        expect(wordErrorRate(a, a)).toBe(0);
      }),
    );
  });
});
