/**
 * The bot's side of an isolated-vm task holds the sandbox's answer to the task's limits itself:
 * an answer that is not the sandbox's own code's any more (an escape from the isolate) gets
 * no more output or log through than the limits allow.
 */
import { describe, expect, it } from 'vitest';
import { Watchdog } from '../../../src/engines/child/watchdog.ts';
import type { SandboxChild } from '../../../src/engines/ivm/child.ts';
import { dispatch, type Job } from '../../../src/engines/ivm/dispatch.ts';
import { MAX_LOG_BYTES, MAX_LOG_LINES } from '../../../src/engines/ivm/log-sink.ts';
import type { ChildMessage } from '../../../src/engines/ivm/protocol.ts';
import type { EnginePackage, RunResult } from '../../../src/engines/types.ts';

const LIMITS = { memoryMb: 32, cpuMs: 1000, wallMs: 2000, maxOutputBytes: 1024 };

/** A sandbox that answers every task with `answer`. */
function sandbox(answer: (id: number) => ChildMessage): SandboxChild {
  const child = {
    pid: undefined,
    alive: true,
    onMessage: undefined as ((m: ChildMessage) => void) | undefined,
    onStderr: undefined,
    send(msg: { id: number }) {
      setImmediate(() => child.onMessage?.(answer(msg.id)));
    },
    onExit: () => () => {},
    kill() {},
    close: async () => {},
  };
  return child as unknown as SandboxChild;
}

async function runOn(child: SandboxChild): Promise<RunResult> {
  const engine = { manifest: { name: 'escaped', input: 'bytes' }, cid: 'c', code: '' };
  const req = { engine: engine as unknown as EnginePackage, input: new Uint8Array(), params: {} };
  return new Promise<RunResult>((resolve, reject) => {
    const job: Job = { id: 1, req, params: {}, limits: LIMITS, resolve, reject };
    const opts = { killGraceMs: 100, watchdog: new Watchdog(50), sandboxOwnMb: 512 };
    void dispatch(child, job, opts);
  });
}

describe("the bot's side of an isolated-vm task", () => {
  it('refuses output over the limit, whatever the sandbox says', async () => {
    const big = sandbox((id) => ({
      type: 'done',
      id,
      output: new Uint8Array(LIMITS.maxOutputBytes + 1),
      logs: [],
      cpuMs: 1,
    }));
    await expect(runOn(big)).rejects.toMatchObject({ code: 'ENGINE_OUTPUT' });
  });

  it('keeps no more log than the sandbox would', async () => {
    const chatty = sandbox((id) => ({
      type: 'done',
      id,
      output: new Uint8Array(1),
      logs: Array.from({ length: 1_000 }, () => 'x'.repeat(1_000)),
      cpuMs: 1,
    }));
    const { logs } = await runOn(chatty);
    expect(logs.length).toBeLessThanOrEqual(MAX_LOG_LINES);
    expect(Buffer.byteLength(logs.join(''))).toBeLessThanOrEqual(MAX_LOG_BYTES + 100);
    expect(logs.at(-1)).toBe('[log truncated]');
  });
});
