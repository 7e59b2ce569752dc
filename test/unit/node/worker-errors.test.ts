/**
 * What a worker says in the room when its run fails: a user must be able to tell what went
 * wrong, and an error that is not meshbot's own (a bug, a library's throw) is shown with an
 * id that the node's log line also carries, as command replies do (replies.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { Runner } from '../../../src/engines/runner.ts';
import type { EnginePackage, RunRequest, RunResult } from '../../../src/engines/types.ts';
import type { Ledgers } from '../../../src/node/ledgers.ts';
import { takeOwnReports } from '../../../src/node/own-reports.ts';
import { WorkerRole } from '../../../src/node/worker-role.ts';
import { type FakeRoom, fakeRoom, runningTask } from '../../support/fake-room.ts';

const ME = '@me:hs';
const COORDINATOR = '@coord:hs';

/** A worker over a fake room (another node coordinates) whose every run is `run`. */
async function worker(run: (req: RunRequest) => Promise<RunResult>) {
  const f = await fakeRoom({ self: ME, nodes: { [COORDINATOR]: { owner: '@b:hs' } } });
  f.lease(COORDINATOR, 1);
  const runtime: Partial<Runner> = {
    download: async (ref) => ({ manifest: { name: ref.name } }) as unknown as EnginePackage,
    run,
  };
  const ledger = { complete: async () => {}, append: async () => {} };
  f.ctx.runtime = runtime as Runner;
  f.ctx.ledgers = { get: () => ledger } as unknown as Ledgers;
  const role = new WorkerRole(f.ctx, (room, reports) =>
    takeOwnReports(room.book, ME, reports, f.ctx.config.mesh, Date.now()),
  );
  return { f, role };
}

/** Runs the task `runningTask` books, as the coordinator's assignment would; its answer. */
async function answerOf(f: FakeRoom, role: WorkerRole): Promise<string> {
  const id = await runningTask(f);
  const block = f.room.book.get(id)?.block as string;
  role.take(f.room, { task: id, worker: ME, attempt: 1, block });
  await role.idle();
  const reply = f.sent.find((s) => s.type === 'm.room.message');
  return String(reply?.content.body);
}

describe('a run that fails with an error that is not meshbot’s own', () => {
  it('is answered with an id that the log line of the failure carries', async () => {
    const { f, role } = await worker(async () => {
      throw new Error('Cannot read properties of undefined');
    });
    const body = await answerOf(f, role);
    const id = /internal error \(id ([0-9a-f]{8});/.exec(body)?.[1];
    expect(id, body).toMatch(/^[0-9a-f]{8}$/);
    const line = f.logs.find((l) => l.includes('task failed')) as string;
    expect(JSON.parse(line)).toMatchObject({ errorId: id, code: 'INTERNAL' });
  });
});
