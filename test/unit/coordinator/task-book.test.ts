import { describe, expect, it } from 'vitest';
import { ranElsewhere } from '../../../src/coordinator/book-views.ts';
import { TaskBook } from '../../../src/coordinator/task-book.ts';

const info = (n: number, who = '@p:x') => ({ request: `$req${n}`, submitter: who, engine: 'noop' });
const LEASE = 1_000;

function book(): TaskBook {
  const b = new TaskBook();
  b.accept('task1', 'AA==', info(1), 0);
  return b;
}

describe('the Manager book', () => {
  it('an assignment expires unless renewed, and the task comes back with a higher attempt', () => {
    const b = book();
    b.assign('task1', { worker: '@w1:x', attempt: 1, term: 1 }, LEASE, 0);
    b.renew('@w1:x', 'task1', 1, LEASE, 900);
    expect(b.expire(1_500, 3)).toEqual([]);
    expect(b.expire(2_000, 3).map((r) => r.id)).toEqual(['task1']);
    expect(b.get('task1')).toMatchObject({ state: 'queued', attempt: 1 });
    b.assign('task1', { worker: '@w2:x', attempt: 2, term: 1 }, LEASE, 2_000);
    expect(b.get('task1')).toMatchObject({ state: 'assigned', worker: '@w2:x', attempt: 2 });
  });

  it('runs no lease for an assignment still on its way to the room', () => {
    const b = book();
    b.assign('task1', { worker: '@w:x', attempt: 1, term: 1 }, LEASE, 0);
    expect(b.expire(5_000, 3, (t) => t === 'task1')).toEqual([]);
    expect(b.get('task1')?.state).toBe('assigned');
    // Sent at last: its lease starts then.
    b.renew('@w:x', 'task1', 1, LEASE, 5_000);
    expect(b.expire(5_500, 3)).toEqual([]);
    expect(b.expire(6_001, 3).map((r) => r.id)).toEqual(['task1']);
  });

  it('tells its listener of each task a report settles, and of none a retry keeps open', () => {
    const b = new TaskBook();
    const heard: string[] = [];
    b.onSettled((id, why) => heard.push(`${id} ${why}`));
    for (const n of [1, 2, 3, 4, 5]) {
      b.accept(`task${n}`, 'AA==', info(n), 0);
      b.assign(`task${n}`, { worker: '@w1:x', attempt: 1, term: 1 }, LEASE, 0);
    }
    const retryable = { code: 'ENGINE_REFUSED', message: 'no docker', retryable: true };
    b.complete('@w1:x', { task: 'task1', attempt: 1, ok: false, error: retryable }, 3, 10);
    expect(heard).toEqual([]);
    b.complete('@w1:x', { task: 'task2', attempt: 1, ok: true, result: 'bafyr' }, 3, 10);
    const fatal = { code: 'ENGINE_FAILED', message: 'boom' };
    b.complete('@w1:x', { task: 'task3', attempt: 1, ok: false, error: fatal }, 3, 10);
    const plan = { task: 'task4', attempt: 1, ok: true, result: 'bafyplan', split: true };
    b.complete('@w1:x', plan, 3, 10);
    b.expire(LEASE + 1, 1);
    b.cancel('task1', 'cancelled by @p:x', 20);
    expect(heard).toEqual([
      'task2 settled',
      'task3 settled',
      'task4 settled',
      'task5 settled', // its lease ran out on its last attempt: it failed for good
      'task1 cancelled',
    ]);
  });

  it('only the assigned worker renews', () => {
    const b = book();
    b.assign('task1', { worker: '@w1:x', attempt: 1, term: 1 }, LEASE, 0);
    b.renew('@intruder:x', 'task1', 1, LEASE, 900);
    expect(b.expire(1_001, 3)).toHaveLength(1);
  });

  it('a completion is final: later reports and assignments change nothing', () => {
    const b = book();
    b.assign('task1', { worker: '@w1:x', attempt: 1, term: 1 }, LEASE, 0);
    b.complete('@w1:x', { task: 'task1', attempt: 1, ok: true, result: 'bafyresult' }, 3, 10);
    b.complete('@w2:x', { task: 'task1', attempt: 2, ok: true, result: 'bafyother' }, 3, 20);
    b.assign('task1', { worker: '@w2:x', attempt: 2, term: 2 }, LEASE, 30);
    expect(b.get('task1')).toMatchObject({ state: 'done', result: 'bafyresult', worker: '@w1:x' });
    expect(b.unanswered().map((r) => r.id)).toEqual(['task1']);
    b.answered('task1', 'done', 40);
    expect(b.unanswered()).toEqual([]);
  });

  it('takes reports only from a node the task was assigned to', () => {
    const b = book();
    b.assign('task1', { worker: '@w1:x', attempt: 1, term: 1 }, LEASE, 0);
    b.complete('@other:x', { task: 'task1', attempt: 1, ok: true, result: 'bafyforged' }, 3, 5);
    expect(b.get('task1')?.state).toBe('assigned');
    expect(b.wasAssigned('task1', '@w1:x')).toBe(true);
  });

  it('tells a worker when another node ran its task too, so it keeps to the room order', () => {
    const b = book();
    expect(ranElsewhere(b, 'task1', '@w2:x')).toBe(false);
    b.assign('task1', { worker: '@w2:x', attempt: 1, term: 1 }, LEASE, 0);
    b.expire(2_000, 3);
    b.assign('task1', { worker: '@w2:x', attempt: 2, term: 1 }, LEASE, 2_000);
    // Only its own attempts: its reports reach the room in the order it applies them.
    expect(ranElsewhere(b, 'task1', '@w2:x')).toBe(false);
    const other = book();
    other.assign('task1', { worker: '@w1:x', attempt: 1, term: 1 }, LEASE, 0);
    other.expire(2_000, 3);
    other.assign('task1', { worker: '@w2:x', attempt: 2, term: 1 }, LEASE, 2_000);
    expect(ranElsewhere(other, 'task1', '@w2:x')).toBe(true);
    expect(ranElsewhere(other, 'task1', '@w1:x')).toBe(true);
    // In the room's order, the first result is every node's, @w2:x's own included.
    other.complete('@w1:x', { task: 'task1', attempt: 1, ok: true, result: 'bafyfirst' }, 3, 2_100);
    other.complete(
      '@w2:x',
      { task: 'task1', attempt: 2, ok: true, result: 'bafysecond' },
      3,
      2_200,
    );
    expect(other.get('task1')).toMatchObject({ state: 'done', result: 'bafyfirst' });
  });

  it('a late result from an expired attempt still counts', () => {
    const b = book();
    b.assign('task1', { worker: '@w1:x', attempt: 1, term: 1 }, LEASE, 0);
    b.expire(2_000, 3);
    b.assign('task1', { worker: '@w2:x', attempt: 2, term: 1 }, LEASE, 2_000);
    b.complete('@w1:x', { task: 'task1', attempt: 1, ok: true, result: 'bafylate' }, 3, 2_100);
    expect(b.get('task1')).toMatchObject({ state: 'done', result: 'bafylate' });
  });

  it('retries a retryable failure, fails for good after maxAttempts with every reason', () => {
    const b = book();
    const fail = (attempt: number, worker: string) =>
      b.complete(
        worker,
        {
          task: 'task1',
          attempt,
          ok: false,
          error: { code: 'NOT_FOUND', message: `no input on ${worker}`, retryable: true },
        },
        2,
        attempt * 10,
      );
    b.assign('task1', { worker: '@w1:x', attempt: 1, term: 1 }, LEASE, 0);
    fail(1, '@w1:x');
    expect(b.get('task1')?.state).toBe('queued');
    b.assign('task1', { worker: '@w2:x', attempt: 2, term: 1 }, LEASE, 20);
    fail(2, '@w2:x');
    const rec = b.get('task1');
    expect(rec?.state).toBe('failed');
    expect(rec?.failures.map((f) => f.worker)).toEqual(['@w1:x', '@w2:x']);
  });

  it('a failure that cannot be retried is final at once', () => {
    const b = book();
    b.assign('task1', { worker: '@w1:x', attempt: 1, term: 1 }, LEASE, 0);
    const error = { code: 'ENGINE_ERROR', message: 'boom' };
    b.complete('@w1:x', { task: 'task1', attempt: 1, ok: false, error }, 3, 5);
    expect(b.get('task1')).toMatchObject({ state: 'failed', error });
  });

  it('gives up after maxAttempts lost workers, naming each', () => {
    const b = book();
    for (let attempt = 1; attempt <= 2; attempt++) {
      b.assign('task1', { worker: `@w${attempt}:x`, attempt, term: 1 }, LEASE, attempt * 10_000);
      b.expire(attempt * 10_000 + LEASE + 1, 2);
    }
    const rec = b.get('task1');
    expect(rec?.state).toBe('failed');
    expect(rec?.error?.message).toContain('@w1:x stopped answering');
    expect(rec?.error?.message).toContain('@w2:x stopped answering');
  });

  it('a worker that leaves loses its assignments at once', () => {
    const b = book();
    b.assign('task1', { worker: '@w1:x', attempt: 1, term: 1 }, LEASE, 0);
    b.dropWorker('@w1:x', 10);
    expect(b.expire(10, 3)).toHaveLength(1);
  });

  it('keeps commands until a node handles them, and never takes a handled one again', () => {
    const b = new TaskBook();
    b.requests.seen({ id: '$1', sender: '@p:x', body: '!help', seenAt: 0 });
    b.requests.seen({ id: '$2', sender: '@p:x', body: '!mesh', seenAt: 0 });
    b.requests.handled('$1');
    b.requests.seen({ id: '$1', sender: '@p:x', body: '!help', seenAt: 0 });
    expect(b.requests.pending().map((r) => r.id)).toEqual(['$2']);
    b.accept('t', 'AA==', { ...info(2), request: '$2' }, 0);
    expect(b.requests.pending()).toEqual([]);
  });

  it('survives a snapshot and restore', () => {
    const b = book();
    b.assign('task1', { worker: '@w1:x', attempt: 1, term: 4 }, LEASE, 0);
    b.requests.seen({ id: '$9', sender: '@p:x', body: '!help', seenAt: 0 });
    const copy = new TaskBook();
    copy.restore(JSON.parse(JSON.stringify(b.snapshot())));
    expect(copy.get('task1')).toEqual(b.get('task1'));
    expect(copy.byRequest('$req1')?.id).toBe('task1');
    expect(copy.requests.pending().map((r) => r.id)).toEqual(['$9']);
    copy.accept('task2', 'AA==', info(2), 5);
    expect(copy.get('task2')?.seq).toBeGreaterThan(copy.get('task1')?.seq ?? 0);
  });
});

describe('the Manager book: a checked task, on every node', () => {
  const replica = (n: number) => ({ ...info(1), parent: 'task1' as string | undefined, n });
  // A node that is not coordinating: the task done by its first worker, two replicas run.
  function follower(): TaskBook {
    const b = book();
    b.assign('task1', { worker: '@liar:x', attempt: 1, term: 1 }, LEASE, 0);
    b.complete('@liar:x', { task: 'task1', attempt: 1, ok: true, result: 'bafywrong' }, 3, 10);
    for (const n of [1, 2]) {
      const { n: _, ...rest } = replica(n);
      b.accept(`rep${n}`, 'AA==', rest, 20);
      b.assign(`rep${n}`, { worker: `@w${n}:x`, attempt: 1, term: 1 }, LEASE, 20);
      b.complete(`@w${n}:x`, { task: `rep${n}`, attempt: 1, ok: true, result: 'bafyright' }, 3, 30);
    }
    return b;
  }
  const agreed = {
    result: 'bafyright',
    worker: '@w1:x',
    verified: { agreeing: 2, of: 3 },
  };

  it('takes the result the quorum agreed on, from the node that gave it', () => {
    const b = follower();
    b.checked('task1', agreed, 40);
    expect(b.get('task1')).toMatchObject({
      state: 'done',
      result: 'bafyright',
      worker: '@w1:x',
      verified: { agreeing: 2, of: 3 },
      finishedAt: 10,
      checked: true,
    });
  });

  it('fails the task when no result was agreed', () => {
    const b = follower();
    b.checked('task1', { error: { code: 'UNVERIFIED', message: 'no agreement' } }, 40);
    expect(b.get('task1')).toMatchObject({ state: 'failed', error: { code: 'UNVERIFIED' } });
  });

  it('on the coordinator, ends the hold on the task while its replicas ran', () => {
    const b = follower();
    const c = new TaskBook();
    c.accept('task1', 'AA==', info(1), 0);
    c.assign('task1', { worker: '@liar:x', attempt: 1, term: 1 }, LEASE, 0);
    c.complete('@liar:x', { task: 'task1', attempt: 1, ok: true, result: 'bafywrong' }, 3, 10);
    c.verify('task1', ['rep1', 'rep2']);
    expect(c.get('task1')?.state).toBe('split');
    c.checked('task1', agreed, 50);
    expect(c.get('task1')).toMatchObject({ state: 'done', result: 'bafyright', finishedAt: 50 });
    c.checked('task1', agreed, 60); // the announced verdict again: nothing changes
    expect(c.get('task1')?.finishedAt).toBe(50);
    expect(b.get('task1')?.parts).toBeUndefined(); // the follower never knew the parts
  });

  it("answers the replicas with their task on a node that does not know the task's parts", () => {
    const b = follower();
    b.checked('task1', agreed, 40);
    b.answered('task1', 'done', 50);
    for (const id of ['rep1', 'rep2']) {
      expect(b.get(id)).toMatchObject({ answered: true });
      expect(b.get(id)?.block).toBeUndefined();
    }
    expect(b.unanswered()).toEqual([]);
  });

  it('answers a part that ends after its task was answered, at the next answer', () => {
    const b = follower();
    const { n: _, ...rest } = replica(3);
    b.accept('rep3', 'AA==', rest, 35);
    b.assign('rep3', { worker: '@w3:x', attempt: 1, term: 1 }, LEASE, 35);
    b.answered('task1', 'done', 50);
    expect(b.get('rep3')?.answered).toBe(false); // still running
    b.complete('@w3:x', { task: 'rep3', attempt: 1, ok: true, result: 'bafyright' }, 3, 60);
    b.accept('task2', 'AA==', info(2), 70);
    b.answered('task2', 'failed', 80);
    expect(b.get('rep3')?.answered).toBe(true);
  });
});

describe('the Manager book: a task withdrawn before this node knew it', () => {
  const part = { ...info(1), parent: 'pipe' };

  it('arrives cancelled, with the reason, and an assignment of it changes nothing', () => {
    const b = new TaskBook();
    expect(b.cancel('late', 'the pipeline failed: x', 10)).toBe(false);
    b.accept('late', 'AA==', part, 20);
    b.assign('late', { worker: '@w1:x', attempt: 1, term: 1 }, LEASE, 30);
    expect(b.get('late')).toMatchObject({
      state: 'cancelled',
      error: { code: 'CANCELLED', message: 'the pipeline failed: x' },
    });
  });

  it('is remembered across a snapshot and a restart', () => {
    const b = new TaskBook();
    b.cancel('late', 'the pipeline failed: x', 10);
    const restarted = new TaskBook();
    restarted.restore(structuredClone(b.snapshot()));
    restarted.accept('late', 'AA==', part, 20);
    expect(restarted.get('late')?.state).toBe('cancelled');
  });
});
