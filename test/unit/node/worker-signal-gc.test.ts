/**
 * The signal a run gets combines the node's (long-lived) with its assignment's: once the run
 * is over and its engine took its listener out, nothing keeps either alive.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import type { Runner } from '../../../src/engines/runner.ts';
import type { EnginePackage, RunRequest, RunResult } from '../../../src/engines/types.ts';
import { EVENT } from '../../../src/protocol/events.ts';
import { MESH_EVENT } from '../../../src/protocol/manager.ts';
import { fakeNode } from '../../support/fake-node.ts';
import { runningTask } from '../../support/fake-room.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

describe('the signals of finished runs', () => {
  it('are collected', async () => {
    const n = await fakeNode({ self: '@me:hs', nodes: { '@coord:hs': { owner: '@o:hs' } } });
    const { f } = n;
    const signals: WeakRef<AbortSignal>[] = [];
    f.ctx.runtime = {
      offers: () => [],
      kinds: () => [],
      download: async (ref) => ({ manifest: { name: ref.name } }) as unknown as EnginePackage,
      // As the runtimes do: a listener while the run lasts, taken out when it ends.
      run: async (req: RunRequest) => {
        const onAbort = () => {};
        req.signal?.addEventListener('abort', onAbort, { once: true });
        signals.push(new WeakRef(req.signal as AbortSignal));
        await new Promise((r) => setTimeout(r, 1));
        req.signal?.removeEventListener('abort', onAbort);
        return { output: req.input, cpuMs: 1, logs: [] } as unknown as RunResult;
      },
    } as Partial<Runner> as Runner;
    await n.node.start();
    const lease = { holder: '@coord:hs', term: 1, leaseMs: 3_600_000, renewal: 0 };
    await n.deliver('@coord:hs', MESH_EVENT.lease, lease, '');
    for (let i = 0; i < 20; i++) {
      const id = await runningTask(f, { request: `$run${i}` });
      const block = f.room.book.get(id)?.block as string;
      const assignments = [{ task: id, worker: '@me:hs', attempt: 1, block }];
      await n.deliver('@coord:hs', EVENT.assign, { term: 1, leaseMs: 30_000, assignments });
    }
    await n.node.idle();
    expect(signals).toHaveLength(20);
    for (let i = 0; i < 5; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(signals.filter((s) => s.deref() !== undefined).length).toBeLessThanOrEqual(1);
  });
});
