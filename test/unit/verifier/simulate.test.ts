import { describe, expect, it } from 'vitest';
import {
  type CheaterScenario,
  mulberry32,
  SUSPECT,
  simulateCheater,
} from '../../../src/verifier/simulate.ts';
import { verifierOptions } from '../../../src/verifier/types.ts';

const opts = verifierOptions({ spotCheckRate: 0.1, warmup: 10, quorum: 2, maxReplicas: 5 });
const SEEDS = 2_000;

/** The fraction of seeds in which the suspect was quarantined within `limit` cheating tasks. */
function caughtWithin(limit: number, scenario: Omit<CheaterScenario, 'seed'>): number {
  let caught = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const { caughtAfter } = simulateCheater({ ...scenario, seed });
    if (caughtAfter !== null && caughtAfter <= limit) caught++;
  }
  return caught / SEEDS;
}

/** A node that behaves for 20 tasks, earning trust, and then always cheats. */
const earnedThenCheats = {
  cheatRate: 1,
  honestFor: 20,
  honestNodes: 4,
  tasks: 10_000,
  stopWhenCaught: true,
  opts,
};

describe('the seeded simulation', () => {
  it('replays exactly from a seed', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const draws = Array.from({ length: 1_000 }, () => a());
    expect(draws).toEqual(Array.from({ length: 1_000 }, () => b()));
    expect(draws.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(mulberry32(8)()).not.toBe(draws[0]);
    const scenario = { seed: 3, cheatRate: 0.5, honestFor: 15, honestNodes: 4, tasks: 500, opts };
    expect(simulateCheater(scenario)).toEqual(simulateCheater(scenario));
  });
});

describe('catching a node that returns wrong results', () => {
  it('a node that cheats from the start is quarantined on its first task, during warm-up', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const out = simulateCheater({ seed, cheatRate: 1, honestNodes: 4, tasks: 200, opts });
      expect(out.caughtAfter).toBe(1);
      expect(out.quarantined).toEqual([SUSPECT]);
      expect(out.wrongAccepted).toBe(0);
    }
  });

  it('a node that earns trust and then always cheats is caught within 44 cheating tasks in ≥ 99% of seeds', () => {
    expect(caughtWithin(44, earnedThenCheats)).toBeGreaterThanOrEqual(0.99);
  });

  it('even when only spot checks of its own tasks can catch it, each is checked with probability q', () => {
    // Worst case: the cheater never checks others' work. Then P(caught within 44) is exactly
    // 1 - 0.9^44 = 0.9903; over 2,000 seeds the measured fraction has a standard deviation of
    // 0.0022, so the assertion allows three of them below the true value.
    const scenario = { ...earnedThenCheats, checksOthers: false };
    const fraction = caughtWithin(44, scenario);
    expect(fraction).toBeGreaterThan(1 - 0.9 ** 44 - 0.0066);
    expect(caughtWithin(10, scenario)).toBeCloseTo(1 - 0.9 ** 10, 1);
  });

  it('a node that cheats now and then is caught too, and few of its wrong results get through', () => {
    let wrong = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const out = simulateCheater({
        seed,
        cheatRate: 0.3,
        honestFor: 20,
        honestNodes: 4,
        tasks: 5_000,
        opts,
      });
      expect(out.caughtAfter).not.toBeNull();
      expect(out.quarantined).toEqual([SUSPECT]);
      wrong += out.wrongAccepted;
    }
    // Expected about (1 - q) / q = 9 unchecked wrong results per cheater before it is caught.
    expect(wrong / 200).toBeLessThan(15);
  });
});

describe('honest nodes', () => {
  it('are never quarantined, and every accepted result is right', () => {
    for (let seed = 1; seed <= 100; seed++) {
      const out = simulateCheater({ seed, cheatRate: 0, honestNodes: 3, tasks: 1_000, opts });
      expect(out.quarantined).toEqual([]);
      expect(out.caughtAfter).toBeNull();
      expect(out.wrongAccepted).toBe(0);
      expect(out.undecided).toBe(0);
    }
  });

  it('pay about q in verification once they are trusted', () => {
    const out = simulateCheater({ seed: 11, cheatRate: 0, honestNodes: 5, tasks: 20_000, opts });
    const overhead = out.steady.verificationCpu / out.steady.usefulCpu;
    expect(overhead).toBeGreaterThan(0.05);
    expect(overhead).toBeLessThan(0.15);
    // Warm-up replicates everything, but only for the first few tasks of each node.
    expect(out.steady.usefulCpu).toBeGreaterThan(out.usefulCpu * 0.99);
    expect(out.verificationCpu / out.usefulCpu).toBeLessThan(0.15);
  });
});
