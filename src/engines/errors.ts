import { MeshError } from '../errors/index.ts';

export type EngineErrorCode =
  /** The run used up its CPU or wall-clock budget. */
  | 'ENGINE_TIMEOUT'
  /** The engine's heap outgrew its memory limit. */
  | 'ENGINE_MEMORY'
  /** The engine's own code threw (or did not compile). */
  | 'ENGINE_FAILED'
  /** The sandbox process died under the run; another attempt may well succeed. */
  | 'ENGINE_CRASHED'
  /** The output is too large or of a type an engine may not return. */
  | 'ENGINE_OUTPUT'
  /** The engine is unknown, not allowed here, or the runtime cannot take it. */
  | 'ENGINE_REFUSED'
  /** The request (input, params, limits) does not fit the engine. */
  | 'ENGINE_BAD_INPUT'
  /** The caller's abort signal fired, or the runtime stopped, before the run ended. */
  | 'ENGINE_ABORTED'
  /** `engines/<name>/manifest.json` is missing, unreadable or invalid. */
  | 'ENGINE_MANIFEST';

export interface EngineErrorOptions {
  retryable?: boolean;
  cause?: unknown;
  /** What the engine logged before it failed, when known. */
  logs?: string[];
}

/** Every failure of an engine run. `engine` is the engine's name, for logs and the room. */
export class EngineError extends MeshError {
  declare readonly code: EngineErrorCode;
  readonly engine: string;
  readonly logs: string[];

  constructor(
    code: EngineErrorCode,
    engine: string,
    message: string,
    userMessage: string,
    opts: EngineErrorOptions = {},
  ) {
    super(code, `${engine}: ${message}`, { ...opts, userMessage });
    this.engine = engine;
    this.logs = opts.logs ?? [];
  }
}

/** Engine error messages are shown in a chat room: keep them short. */
export const MAX_ENGINE_MESSAGE = 300;

/** One line (a room reply has no room for a stack), at most `max` characters. */
export function truncate(text: string, max = MAX_ENGINE_MESSAGE): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export interface EngineTimeoutOptions extends EngineErrorOptions {
  /** Why, when it is known to be something that will recur anywhere (not retryable). */
  detail?: string;
  /**
   * With limit `wall` and limitMs the CPU limit: the CPU the run had used when its CPU time
   * window ran out. isolated-vm measures the CPU limit with a clock, which runs on while a
   * busy machine gives the CPU to other work.
   */
  cpuUsedMs?: number;
}

export class EngineTimeoutError extends EngineError {
  readonly limit: 'cpu' | 'wall';
  constructor(
    engine: string,
    limit: 'cpu' | 'wall',
    limitMs: number,
    opts: EngineTimeoutOptions = {},
  ) {
    const what = limit === 'cpu' ? 'CPU time' : 'time';
    const detail = opts.detail ? `; ${opts.detail}` : '';
    const starved = limit === 'wall' && opts.cpuUsedMs !== undefined;
    const used = Math.round(opts.cpuUsedMs ?? 0);
    // A wall timeout may come from a busy machine; a CPU timeout will recur anywhere.
    super(
      'ENGINE_TIMEOUT',
      engine,
      starved
        ? `CPU time window of ${limitMs} ms ran out with ${used} ms of CPU used (a busy machine)`
        : `${limit} limit of ${limitMs} ms exceeded${detail}`,
      starved
        ? `${engine} ran out of time: it got ${used} ms of CPU in its ${limitMs} ms CPU time window (the machine was busy)`
        : `${engine} ran out of ${what} (limit ${limitMs} ms)${detail}`,
      { retryable: limit === 'wall' && !opts.detail, ...opts },
    );
    this.limit = limit;
  }
}

export class EngineMemoryError extends EngineError {
  constructor(
    engine: string,
    limitMb: number,
    opts: EngineErrorOptions & { detail?: string } = {},
  ) {
    const detail = opts.detail ? `; ${opts.detail}` : '';
    super(
      'ENGINE_MEMORY',
      engine,
      `memory limit of ${limitMb} MiB exceeded${detail}`,
      `${engine} ran out of memory (limit ${limitMb} MiB)`,
      opts,
    );
  }
}

export class EngineFailedError extends EngineError {
  constructor(engine: string, engineMessage: string, opts: EngineErrorOptions = {}) {
    const text = truncate(engineMessage);
    super('ENGINE_FAILED', engine, text, `${engine} failed: ${text}`, opts);
  }
}

export class EngineCrashedError extends EngineError {
  constructor(engine: string, detail: string, opts: EngineErrorOptions = {}) {
    super(
      'ENGINE_CRASHED',
      engine,
      `sandbox process died: ${detail}`,
      `the sandbox running ${engine} crashed; try again`,
      { retryable: true, ...opts },
    );
  }
}

export class EngineOutputError extends EngineError {
  constructor(engine: string, reason: string, opts: EngineErrorOptions = {}) {
    const text = truncate(reason);
    super('ENGINE_OUTPUT', engine, text, `${engine} gave unusable output: ${text}`, opts);
  }
}

export class EngineRefusedError extends EngineError {
  constructor(engine: string, reason: string, opts: EngineErrorOptions = {}) {
    super('ENGINE_REFUSED', engine, reason, `engine ${engine} is not available: ${reason}`, opts);
  }
}

export class EngineBadInputError extends EngineError {
  constructor(engine: string, reason: string, opts: EngineErrorOptions = {}) {
    super('ENGINE_BAD_INPUT', engine, reason, `bad input for ${engine}: ${reason}`, opts);
  }
}

export class EngineAbortedError extends EngineError {
  constructor(engine: string, reason = 'the run was cancelled', opts: EngineErrorOptions = {}) {
    super('ENGINE_ABORTED', engine, reason, `${engine} was stopped: ${reason}`, opts);
  }
}

export class EngineManifestError extends EngineError {
  constructor(engine: string, message: string, opts: EngineErrorOptions = {}) {
    super(
      'ENGINE_MANIFEST',
      engine,
      message,
      `engine ${engine} is misconfigured: ${message}`,
      opts,
    );
  }
}

/** A runtime's engine is not there (no Docker engine answers): the node runs without it. */
export class EngineRuntimeUnavailableError extends EngineError {
  constructor(runtime: string, detail: string, opts: EngineErrorOptions = {}) {
    super(
      'ENGINE_CRASHED',
      runtime,
      `unavailable: ${detail}`,
      `the ${runtime} runtime is unavailable: ${detail}`,
      {
        retryable: true,
        ...opts,
      },
    );
  }
}
