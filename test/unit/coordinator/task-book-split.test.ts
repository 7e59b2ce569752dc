import { describe, expect, it } from 'vitest';
import { joinable, pipelines, unexpanded } from '../../../src/coordinator/book-views.ts';
import { TaskBook } from '../../../src/coordinator/task-book.ts';

const LEASE = 1_000;
const parentInfo = { request: '$req1', submitter: '@p:x', engine: 'whisper' };
const part = () => ({ ...parentInfo, parent: 'parent' });

/** A parent whose worker split it into two parts, both accepted. */
function splitBook(): TaskBook {
  const b = new TaskBook();
  b.accept('parent', 'AA==', parentInfo, 0);
  b.assign('parent', { worker: '@w1:x', attempt: 1, term: 1 }, LEASE, 0);
  b.complete(
    '@w1:x',
    { task: 'parent', attempt: 1, ok: true, result: 'bafyplan', split: true },
    3,
    10,
  );
  b.accept('part1', 'AA==', part(), 10);
  b.accept('part2', 'AA==', part(), 10);
  b.setParts('parent', ['part1', 'part2']);
  return b;
}

const finish = (b: TaskBook, id: string, worker: string, result: string, t: number) => {
  b.assign(id, { worker, attempt: 1, term: 1 }, LEASE, t);
  b.complete(worker, { task: id, attempt: 1, ok: true, result }, 3, t + 1);
};

describe('split tasks in the Manager book', () => {
  it('a split is not final: the parts wait for workers and the request still names the parent', () => {
    const b = splitBook();
    expect(b.get('parent')).toMatchObject({
      state: 'split',
      result: 'bafyplan',
      parts: ['part1', 'part2'],
    });
    expect(b.queued().map((r) => r.id)).toEqual(['part1', 'part2']);
    expect(b.byRequest('$req1')?.id).toBe('parent');
    expect(b.unanswered()).toEqual([]);
    expect(joinable(b)).toEqual([]);
  });

  it('a part derived after its task was cancelled, or failed, arrives cancelled with its reason', () => {
    const b = splitBook();
    b.cancel('parent', 'cancelled by @p:x', 20);
    b.accept('late', 'AA==', part(), 21);
    expect(b.get('late')).toMatchObject({
      state: 'cancelled',
      error: { code: 'CANCELLED', message: 'cancelled by @p:x' },
    });
    expect(b.queued()).toEqual([]);
    const failed = new TaskBook();
    failed.accept('parent', 'AA==', parentInfo, 0);
    failed.assign('parent', { worker: '@w1:x', attempt: 1, term: 1 }, LEASE, 0);
    failed.complete(
      '@w1:x',
      { task: 'parent', attempt: 1, ok: false, error: { code: 'BOOM', message: 'boom' } },
      1,
      5,
    );
    expect(failed.get('parent')?.state).toBe('failed');
    failed.accept('late', 'AA==', part(), 6);
    expect(failed.get('late')?.state).toBe('cancelled');
    expect(failed.queued()).toEqual([]);
  });

  it('is joinable once every part is final, and parts are never answered on their own', () => {
    const b = splitBook();
    finish(b, 'part1', '@w2:x', 'bafyr1', 20);
    expect(joinable(b)).toEqual([]);
    finish(b, 'part2', '@w3:x', 'bafyr2', 30);
    expect(joinable(b).map((r) => r.id)).toEqual(['parent']);
    expect(b.unanswered()).toEqual([]);
    b.finishSplit('parent', { result: 'bafyjoined' }, 40);
    expect(b.get('parent')).toMatchObject({ state: 'done', result: 'bafyjoined' });
    expect(b.unanswered().map((r) => r.id)).toEqual(['parent']);
    b.answered('parent', 'done', 50);
    expect(b.get('part1')?.answered).toBe(true);
  });

  it('a part that failed for good fails the parent with its reason', () => {
    const b = splitBook();
    b.assign('part1', { worker: '@w2:x', attempt: 1, term: 1 }, LEASE, 20);
    const error = { code: 'ENGINE_BAD_INPUT', message: 'corrupt', retryable: false };
    b.complete('@w2:x', { task: 'part1', attempt: 1, ok: false, error }, 3, 21);
    finish(b, 'part2', '@w3:x', 'bafyr2', 30);
    expect(joinable(b).map((r) => r.id)).toEqual(['parent']);
    b.finishSplit(
      'parent',
      { error: { code: 'ENGINE_BAD_INPUT', message: 'part 1 of 2 failed: corrupt' } },
      40,
    );
    expect(b.get('parent')).toMatchObject({
      state: 'failed',
      error: { message: 'part 1 of 2 failed: corrupt' },
    });
  });

  it('a failed part is retried on its own; the parent is untouched', () => {
    const b = splitBook();
    b.assign('part1', { worker: '@w2:x', attempt: 1, term: 1 }, LEASE, 20);
    expect(b.expire(2_000, 3).map((r) => r.id)).toEqual(['part1']);
    expect(b.get('part1')).toMatchObject({ state: 'queued', attempt: 1 });
    expect(b.get('parent')?.state).toBe('split');
  });

  it('late reports and assignments of the parent change nothing; a part cannot split again', () => {
    const b = splitBook();
    b.assign('parent', { worker: '@w1:x', attempt: 1, term: 1 }, LEASE, 60);
    const error = { code: 'LOST', message: 'x', retryable: false };
    b.complete('@w1:x', { task: 'parent', attempt: 1, ok: false, error }, 3, 61);
    expect(b.get('parent')?.state).toBe('split');
    b.assign('part1', { worker: '@w2:x', attempt: 1, term: 1 }, LEASE, 70);
    b.complete(
      '@w2:x',
      { task: 'part1', attempt: 1, ok: true, result: 'bafyplan2', split: true },
      3,
      71,
    );
    expect(b.get('part1')?.state).toBe('assigned');
  });

  it('cancelling the parent cancels its parts, and snapshots keep the links', () => {
    const b = splitBook();
    expect(b.cancel('parent', 'cancelled by @p:x', 80)).toBe(true);
    expect(b.get('part2')?.state).toBe('cancelled');
    const copy = new TaskBook();
    copy.restore(b.snapshot());
    expect(copy.byRequest('$req1')?.id).toBe('parent');
    expect(copy.get('part1')?.parent).toBe('parent');
  });

  it('tells its listener of the parent and of each part it cancels, not of a finished one', () => {
    const b = splitBook();
    finish(b, 'part1', '@w2:x', 'bafy1', 20);
    const heard: string[] = [];
    b.onSettled((id) => heard.push(id));
    b.cancel('parent', 'cancelled by @p:x', 80);
    expect(heard).toEqual(['part2', 'parent']);
    // A cancel heard again (the room's echo of the coordinator's own) changes nothing.
    b.cancel('parent', 'cancelled by @p:x', 90);
    expect(heard).toEqual(['part2', 'parent']);
  });
});

describe('pipelines in the Manager book', () => {
  /** A task carrying a pipeline whose own run is done: it waits for the stages it derives. */
  function pipelineBook(): TaskBook {
    const b = new TaskBook();
    b.accept('root', 'AA==', { ...parentInfo, engine: 'fibsum-split', pipeline: true }, 0);
    b.assign('root', { worker: '@w1:x', attempt: 1, term: 1 }, LEASE, 0);
    const c = { task: 'root', attempt: 1, ok: true, result: 'bafystart', split: true };
    b.complete('@w1:x', c, 3, 10);
    return b;
  }

  it('keeps a started pipeline open, and never takes its output for a split plan', () => {
    const b = pipelineBook();
    expect(b.get('root')).toMatchObject({ state: 'split', pipeline: true });
    expect(pipelines(b).map((r) => r.id)).toEqual(['root']);
    expect(unexpanded(b)).toEqual([]);
    expect(b.unanswered()).toEqual([]);
  });

  it('gathers the tasks each stage derives, once each, and is never joined as a split', () => {
    const b = pipelineBook();
    const info = { ...parentInfo, engine: 'fibsum-map', parent: 'root' };
    for (const id of ['m1', 'm2']) b.accept(id, 'AA==', info, 20);
    b.addParts('root', ['m1', 'm2']);
    b.addParts('root', ['m2', 'm1']);
    finish(b, 'm1', '@w1:x', 'bafy1', 30);
    finish(b, 'm2', '@w2:x', 'bafy2', 30);
    expect(b.get('root')?.parts).toEqual(['m1', 'm2']);
    expect(joinable(b)).toEqual([]);
    expect(b.unanswered()).toEqual([]);
    b.finishSplit('root', { result: 'bafysum' }, 40);
    expect(b.get('root')).toMatchObject({ state: 'done', result: 'bafysum' });
    expect(pipelines(b)).toEqual([]);
    expect(b.unanswered().map((r) => r.id)).toEqual(['root']);
  });
});

describe('results under verification in the Manager book', () => {
  it('holds a finished result back while replicas run, then answers what the quorum agreed', () => {
    const b = new TaskBook();
    b.accept('t', 'AA==', parentInfo, 0);
    finish(b, 't', '@liar:x', 'bafywrong', 0);
    b.verify('t', ['r1']);
    b.accept('r1', 'AA==', { ...parentInfo, parent: 't' }, 5);
    expect(b.get('t')).toMatchObject({ state: 'split', verifying: true, parts: ['r1'] });
    expect(b.unanswered()).toEqual([]);
    expect(joinable(b)).toEqual([]);
    expect(b.verifyingTasks().map((r) => r.id)).toEqual(['t']);
    b.addParts('t', ['r2']);
    b.finishSplit('t', { result: 'bafyright' }, 50);
    expect(b.get('t')).toMatchObject({ state: 'done', result: 'bafyright' });
    expect(b.unanswered().map((r) => r.id)).toEqual(['t']);
  });

  it('never verifies a part, an answered task or an unfinished one', () => {
    const b = new TaskBook();
    b.accept('p', 'AA==', { ...parentInfo, parent: 'x' }, 0);
    finish(b, 'p', '@w:x', 'bafy', 0);
    b.verify('p', ['r']);
    expect(b.get('p')?.state).toBe('done');
    b.accept('q', 'AA==', { ...parentInfo, request: '$q' }, 0);
    b.verify('q', ['r']);
    expect(b.get('q')?.state).toBe('queued');
  });
});
