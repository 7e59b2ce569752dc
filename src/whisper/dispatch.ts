/**
 * Bot-process side of one whisper run: sends it to the worker process and settles from the
 * answer, the worker's death, the caller's abort or the wall-time limit. whisper.cpp cannot be
 * interrupted, so an abort or a timeout kills the worker; the next run starts a new one.
 */

import type { SandboxChild } from '../engines/child/child.ts';
import {
  EngineAbortedError,
  EngineBadInputError,
  EngineCrashedError,
  type EngineError,
  EngineFailedError,
  EngineTimeoutError,
} from '../engines/errors.ts';
import type { ChildMessage, ParentMessage, RunMessage } from './protocol.ts';

export type WorkerChild = SandboxChild<ParentMessage, ChildMessage>;
export type WorkerAnswer = Extract<ChildMessage, { type: 'transcript' | 'split' }>;

export interface WorkerJob {
  msg: RunMessage;
  wallMs: number;
  signal: AbortSignal;
  onProgress?: (fraction: number) => void;
}

const ENGINE = 'whisper';

/** Resolves with the worker's answer; rejects with an EngineError. */
export function dispatch(child: WorkerChild, job: WorkerJob): Promise<WorkerAnswer> {
  const { msg } = job;
  return new Promise<WorkerAnswer>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      job.signal.removeEventListener('abort', onAbort);
      offExit();
      child.onMessage = undefined;
      fn();
    };
    const fail = (err: EngineError, kill = false) =>
      finish(() => {
        if (kill) child.kill();
        reject(err);
      });
    const timer = setTimeout(
      () => fail(new EngineTimeoutError(ENGINE, 'wall', job.wallMs), true),
      job.wallMs,
    );
    const onAbort = () => fail(new EngineAbortedError(ENGINE), true);
    let offExit = () => {};
    child.onMessage = (m) => {
      if (!('id' in m) || m.id !== msg.id) return;
      if (m.type === 'progress') return safely(() => job.onProgress?.(m.fraction));
      if (m.type === 'failed') return fail(wireError(m.error));
      if (m.type === 'transcript' || m.type === 'split') finish(() => resolve(m));
    };
    job.signal.addEventListener('abort', onAbort, { once: true });
    child.send(msg);
    offExit = child.onExit((info) => {
      const how = info.signal ? `signal ${info.signal}` : `exit code ${info.code}`;
      fail(new EngineCrashedError(ENGINE, how));
    });
  });
}

function wireError(e: Extract<ChildMessage, { type: 'failed' }>['error']): EngineError {
  switch (e.code) {
    case 'AUDIO_UNSUPPORTED':
    case 'AUDIO_CORRUPT':
    case 'AUDIO_TOO_LONG':
      return new EngineBadInputError(ENGINE, e.userMessage ?? e.message);
    case 'MODEL_LOAD':
      return new EngineFailedError(ENGINE, `the model could not be loaded (${e.message})`);
    default:
      return new EngineFailedError(ENGINE, e.message);
  }
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // A caller's progress handler must not break the run.
  }
}
