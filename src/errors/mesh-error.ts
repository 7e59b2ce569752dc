import { randomBytes } from 'node:crypto';

/** Options every meshbot error carries. */
export interface MeshErrorOptions {
  /** Whether trying the same operation again may succeed. */
  retryable?: boolean;
  /** Text fit to show a chat user; defaults to the message. */
  userMessage?: string;
  cause?: unknown;
}

/**
 * Base of all typed errors. `code` is stable and machine-readable; `userMessage` is what
 * the room sees; `id` ties a room reply to the log line that carries the details.
 */
export class MeshError extends Error {
  readonly code: string;
  readonly retryable: boolean;
  readonly userMessage: string;
  readonly id: string;

  constructor(code: string, message: string, opts: MeshErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = opts.retryable ?? false;
    this.userMessage = opts.userMessage ?? message;
    this.id = newErrorId();
  }
}

export function newErrorId(): string {
  return randomBytes(4).toString('hex');
}

/** Wraps anything thrown into a MeshError, keeping typed errors as they are. */
export function toMeshError(err: unknown): MeshError {
  if (err instanceof MeshError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new MeshError('INTERNAL', message, {
    cause: err,
    userMessage: 'internal error',
  });
}

/** The text shown in a room for an error: the user message plus the id the logs carry. */
export function describeForChat(err: unknown): string {
  const e = toMeshError(err);
  return e.code === 'INTERNAL'
    ? `internal error (id ${e.id}; the node's log has the details)`
    : `${e.userMessage} (${e.code})`;
}
