import { describe, expect, it } from 'vitest';
import { Election } from '../../../src/coordinator/election.ts';
import { LeaseClock } from '../../../src/coordinator/lease.ts';
import { asUserId, type UserId } from '../../../src/ids.ts';
import { silentLogger } from '../../../src/log/logger.ts';
import type { Lease } from '../../../src/protocol/manager.ts';

const LEASE = 3_000;
const ids = ['@a:x', '@b:x', '@c:x'].map(asUserId);

/** Three nodes on one simulated room: a lease event reaches everyone, in one order. */
function mesh(live: () => UserId[] = () => ids, gone?: (user: UserId) => boolean) {
  let now = 0;
  const sent: Lease[] = [];
  const nodes = ids.map(
    (self) =>
      new Election({
        self,
        leaseMs: LEASE,
        candidates: live,
        gone,
        publish: async (l) => {
          sent.push(l);
        },
        log: silentLogger,
        now: () => now,
      }),
  );
  /** Delivers the lease events sent so far to every node, in send order. */
  const sync = () => {
    for (const l of sent.splice(0)) for (const n of nodes) n.clock.observe(l, now);
  };
  const step = async (ms: number) => {
    for (let t = 0; t < ms; t += 250) {
      now += 250;
      for (const n of nodes) await n.tick();
      sync();
    }
  };
  const acting = () => nodes.filter((n) => n.acting()).map((n) => n.clock.self);
  return { nodes, step, acting, sync, sent, at: () => now };
}

describe('coordinator election', () => {
  it('elects the first live node of a new mesh and keeps it while it renews', async () => {
    const m = mesh();
    await m.step(1_500);
    expect(m.acting()).toEqual(['@a:x']);
    await m.step(LEASE * 5);
    expect(m.acting()).toEqual(['@a:x']);
    expect(m.nodes[1]?.clock.current?.term).toBe(1);
  });

  it('honours a lease for at most twice its own: one that asks for an hour ends sooner', async () => {
    const m = mesh(() => ids.slice(0, 2));
    m.nodes.splice(2, 1); // @c claims a lease of an hour, then is never heard again
    m.sent.push({ holder: '@c:x', term: 7, leaseMs: 3_600_000, renewal: 1 });
    m.sync();
    const claimed = m.at();
    while (m.acting().length === 0 && m.at() - claimed < 10 * LEASE) await m.step(250);
    expect(m.at() - claimed).toBeGreaterThanOrEqual(2 * LEASE);
    expect(m.at() - claimed).toBeLessThan(2 * LEASE + 2_000);
    expect(m.acting()).toEqual(['@a:x']);
    expect(m.nodes[1]?.clock.current?.term).toBe(8);
  });

  it('a holder that left the room holds nothing: the next node claims at once', async () => {
    let left = false;
    const m = mesh(
      () => (left ? ids.slice(0, 2) : ids),
      (user) => left && user === '@c:x',
    );
    m.sent.push({ holder: '@c:x', term: 3, leaseMs: LEASE, renewal: 1 });
    m.sync();
    m.nodes.splice(2, 1);
    left = true;
    // Before its lease would have run out (a claim acts once it settled, 1 s here).
    await m.step(LEASE - 500);
    expect(m.acting()).toEqual(['@a:x']);
    expect(m.nodes[1]?.clock.current?.term).toBe(4);
  });

  it('a claim of a lower term than the newest is stale: it unseats no one', async () => {
    const m = mesh();
    await m.step(1_500);
    m.sent.push({ holder: '@b:x', term: 6, leaseMs: LEASE, renewal: 1 });
    m.sync();
    await m.step(1_500);
    expect(m.acting()).toEqual(['@b:x']);
    // A node that started without the newest term (a forged lease in room state) claims 1.
    m.sent.push({ holder: '@c:x', term: 1, leaseMs: LEASE, renewal: 1 });
    m.sync();
    await m.step(LEASE * 2);
    expect(m.acting()).toEqual(['@b:x']);
    expect(m.nodes[0]?.clock.current?.holder).toBe('@b:x');
    expect(m.nodes[0]?.clock.current?.term).toBeGreaterThanOrEqual(6);
    // Its holder is still remembered: a reply it sent as coordinator then would count.
    expect(m.nodes[0]?.clock.held(asUserId('@c:x'))).toBe(true);
  });

  it('remembers who held which term across a restart (the book file keeps them)', () => {
    const before = new LeaseClock(asUserId('@a:x'));
    before.observe({ holder: '@b:x', term: 4, leaseMs: LEASE, renewal: 1 }, 0);
    before.observe({ holder: '@c:x', term: 5, leaseMs: LEASE, renewal: 1 }, 0);
    const after = new LeaseClock(asUserId('@a:x'));
    after.restoreHolders(before.holders());
    expect(after.held(asUserId('@b:x'))).toBe(true);
    expect(after.highestTerm).toBe(5);
    // A stale lease left in room state does not lower what it knows.
    after.observe({ holder: '@d:x', term: 1, leaseMs: LEASE, renewal: 1 }, 0);
    expect(after.highestTerm).toBe(5);
    expect(after.current).toBeUndefined();
  });

  it('hands over only after the lease expired, with a higher term, to the next live node', async () => {
    let live = ids;
    const m = mesh(() => live);
    await m.step(1_500);
    // @a dies: it neither ticks nor renews any more.
    m.nodes.splice(0, 1);
    live = ids.slice(1);
    const died = m.at();
    let takeover = 0;
    while (m.acting().length === 0) {
      await m.step(250);
      takeover = m.at() - died;
    }
    expect(takeover).toBeGreaterThanOrEqual(LEASE - 1_000);
    expect(m.acting()).toEqual(['@b:x']);
    expect(m.nodes[0]?.clock.current?.term).toBe(2);
  });

  it('a holder paused past its lease acts no more when it wakes, and claims nothing at once', async () => {
    const m = mesh();
    await m.step(1_500);
    const a = m.nodes[0] as Election;
    const others = m.nodes.splice(0, 1);
    await m.step(LEASE * 3); // @a is frozen: @b takes term 2
    m.nodes.unshift(...others);
    expect(a.acting()).toBe(false);
    await a.tick(); // wakes up: stale view, must not claim
    expect(m.sent.filter((l) => l.holder === '@a:x')).toEqual([]);
    m.sync();
    expect(m.acting()).toEqual(['@b:x']);
  });

  it('two claims of one term resolve to the later one: the other steps down', () => {
    const m = mesh();
    const [a, b] = m.nodes as [Election, Election];
    const la = { holder: ids[0] as string, term: 5, leaseMs: LEASE, renewal: 1 };
    const lb = { holder: ids[1] as string, term: 5, leaseMs: LEASE, renewal: 1 };
    a.clock.noteSend(la, 0);
    b.clock.noteSend(lb, 0);
    for (const n of m.nodes) {
      n.clock.observe(la, 1);
      n.clock.observe(lb, 2);
    }
    expect(a.acting()).toBe(false);
    expect(b.clock.acting(3)).toBe(false); // a new claim settles before it acts
    expect(b.clock.acting(1_500)).toBe(true);
  });

  it('a node that held the lease before a restart claims a new term at once', async () => {
    const m = mesh();
    const a = m.nodes[0] as Election;
    a.clock.observe({ holder: '@a:x', term: 7, leaseMs: LEASE, renewal: 3 }, 0);
    await a.tick();
    expect(m.sent.at(-1)).toMatchObject({ holder: '@a:x', term: 8 });
  });
});
