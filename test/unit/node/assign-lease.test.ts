/**
 * An assignment's lease runs from when the room has it. Under a rate limit its event may wait
 * in the send queue longer than a lease; the coordinator must not take that wait for its
 * worker's silence (fail the attempt, suspect the worker, give the task up after
 * `maxAttempts`) when no node has even been told of it.
 */
import { expect, it } from 'vitest';
import { EVENT } from '../../../src/protocol/events.ts';
import { echoRoom } from '../../support/echo-room.ts';

it('fails no task whose assignment waited in the send queue past a lease, and runs it once sent', async () => {
  const { f, ask, replies, runs } = await echoRoom();
  f.ctx.config.mesh.assignmentLeaseMs = 1_000;
  // The homeserver rate-limits the coordinator: its assign event waits in the send queue.
  let release = () => {};
  const released = new Promise<void>((r) => {
    release = r;
  });
  const send = f.ctx.client.send.bind(f.ctx.client);
  f.ctx.client.send = (async (...args: Parameters<typeof send>) => {
    if (args[1] === EVENT.assign) await released;
    return send(...args);
  }) as typeof send;
  ask();
  await new Promise((r) => setTimeout(r, 3_500));
  const bodies = () => replies().map((r) => String(r.content.body));
  expect(bodies().filter((b) => /stopped answering|failed/.test(b))).toEqual([]);
  release();
  await expect.poll(() => runs, { timeout: 5_000 }).toEqual(['hello']);
  await expect
    .poll(() => bodies().some((b) => b.startsWith('hello')), { timeout: 5_000 })
    .toBe(true);
});
