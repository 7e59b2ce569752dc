/**
 * A pipeline step that fails for a passing reason (a block not fetched in time) or because
 * the node stops does not end the pipeline: the next evaluation tries again. Before, any
 * error of a step failed the pipeline for good, and a node stopping mid-step answered its
 * `!run` as failed once it restarted.
 */
import { describe, expect, it } from 'vitest';
import { TimeoutError } from '../../../src/errors/index.ts';
import type { NodeContext } from '../../../src/node/context.ts';
import { PipelineJobs } from '../../../src/node/pipelines.ts';
import { pipelineNode, splitRoot } from '../../support/pipeline-node.ts';

/** A coordinator's Evaluator whose first `failures` enqueues throw `error`. */
async function flakyEnqueue(failures: number, error: () => Error) {
  const on = pipelineNode();
  const split = await splitRoot(on, { acting: true });
  const ledgers = on.ctx.ledgers as unknown as { get: (room: string) => object };
  const get = ledgers.get;
  let left = failures;
  const enqueued = new Set<string>();
  ledgers.get = (room) => ({
    ...get(room),
    enqueue: async (cid: { toString(): string }) => {
      if (left-- > 0) throw error();
      enqueued.add(cid.toString());
    },
  });
  const evaluate = () => on.jobs.run(split.room, () => {});
  return { ...on, ...split, evaluate, enqueued };
}

describe('a pipeline step that fails', () => {
  it('for a passing reason is tried again at the next evaluation', async () => {
    const n = await flakyEnqueue(1, () => new TimeoutError('a block took too long'));
    await n.evaluate();
    expect(n.book.get(n.root.id)?.state).not.toBe('failed');
    await n.evaluate();
    expect(n.book.get(n.root.id)?.state).not.toBe('failed');
    expect(n.book.get(n.root.id)?.error).toBeUndefined();
    // The stage fired, and each of its tasks reached the Queue GOHO (fibsum's map: 3).
    const parts = n.book.get(n.root.id)?.parts ?? [];
    expect(parts).toHaveLength(3);
    expect([...n.enqueued].sort()).toEqual([...parts].sort());
  });

  it('for a passing reason every time ends the pipeline after a few tries', async () => {
    const n = await flakyEnqueue(0, () => new Error('unused'));
    // The stage's tasks cannot be written: it never fires, and each evaluation fails anew.
    n.store.putBlock = async () => {
      throw new TimeoutError('the disk took too long');
    };
    let evaluations = 0;
    while (n.book.get(n.root.id)?.state !== 'failed' && evaluations < 20) {
      await n.evaluate();
      evaluations++;
    }
    expect(evaluations).toBe(5);
    expect(n.book.get(n.root.id)?.error?.code).toBe('TIMEOUT');
  });

  it('for a reason that will not pass ends the pipeline at once', async () => {
    const n = await flakyEnqueue(1, () => new Error('a bug'));
    await n.evaluate();
    expect(n.book.get(n.root.id)?.state).toBe('failed');
  });

  it('because the node stops leaves the pipeline as it is', async () => {
    const stopper = new AbortController();
    const n = await flakyEnqueue(1, () => {
      stopper.abort();
      return new Error('aborted');
    });
    const ctx = { ...n.ctx, signal: stopper.signal } as NodeContext;
    const jobs = new PipelineJobs(ctx);
    await jobs.run(n.room, () => {});
    expect(n.book.get(n.root.id)?.state).not.toBe('failed');
  });
});
