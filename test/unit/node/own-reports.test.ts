import { describe, expect, it } from 'vitest';
import { TaskBook } from '../../../src/coordinator/task-book.ts';
import { takeOwnReports } from '../../../src/node/own-reports.ts';

const LEASE = 1_000;
const LIMITS = { maxAttempts: 3, assignmentLeaseMs: LEASE };
const ME = '@me:x';

function book(): TaskBook {
  const b = new TaskBook();
  b.accept('task1', 'AA==', { request: '$req1', submitter: '@p:x', engine: 'noop' }, 0);
  return b;
}
const done = (attempt: number, result: string) => ({
  task: 'task1',
  attempt,
  ok: true as const,
  result,
});

describe("a node's own completions", () => {
  it('count at once when only this node ran the task and its lease held', () => {
    const b = book();
    b.assign('task1', { worker: ME, attempt: 1, term: 1 }, LEASE, 0);
    takeOwnReports(b, ME, [{ completion: done(1, 'bafymine'), inTime: true }], LIMITS, 10);
    expect(b.get('task1')).toMatchObject({ state: 'done', result: 'bafymine', worker: ME });
  });

  it("wait for the room's order when another node ran the task too", () => {
    const b = book();
    b.assign('task1', { worker: '@w1:x', attempt: 1, term: 1 }, LEASE, 0);
    b.expire(2_000, 3);
    b.assign('task1', { worker: ME, attempt: 2, term: 1 }, LEASE, 2_000);
    takeOwnReports(b, ME, [{ completion: done(2, 'bafymine'), inTime: true }], LIMITS, 2_100);
    expect(b.get('task1')?.state).toBe('assigned');
    // The room: @w1:x's late completion came first, then the echo of this node's.
    b.complete('@w1:x', done(1, 'bafyfirst'), 3, 2_200);
    b.complete(ME, done(2, 'bafymine'), 3, 2_300);
    expect(b.get('task1')).toMatchObject({ state: 'done', result: 'bafyfirst' });
  });

  it('wait for the echo when the lease may have run out, keeping the task alive meanwhile', () => {
    const b = book();
    b.assign('task1', { worker: ME, attempt: 1, term: 1 }, LEASE, 0);
    takeOwnReports(b, ME, [{ completion: done(1, 'bafymine'), inTime: false }], LIMITS, 900);
    expect(b.get('task1')?.state).toBe('assigned');
    // Renewed at 900: a coordinator on this node does not expire it while the echo comes.
    expect(b.expire(1_500, 3)).toEqual([]);
    b.complete(ME, done(1, 'bafymine'), 3, 1_600);
    expect(b.get('task1')).toMatchObject({ state: 'done', result: 'bafymine' });
  });
});
