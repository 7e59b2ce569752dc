import { MeshError, type MeshErrorOptions } from './mesh-error.ts';

/** Bad input from a person or a peer: never retryable. */
export class BadInputError extends MeshError {
  constructor(message: string, opts: MeshErrorOptions = {}) {
    super('BAD_INPUT', message, opts);
  }
}

/** Invalid configuration; the message names the path of the offending key. */
export class ConfigError extends MeshError {
  constructor(message: string, opts: MeshErrorOptions = {}) {
    super('CONFIG', message, opts);
  }
}

/** A block or object could not be found in the mesh within its budget. */
export class NotFoundError extends MeshError {
  constructor(message: string, opts: MeshErrorOptions = {}) {
    super('NOT_FOUND', message, { retryable: true, ...opts });
  }
}

/** An operation gave up after its time budget. */
export class TimeoutError extends MeshError {
  constructor(message: string, opts: MeshErrorOptions = {}) {
    super('TIMEOUT', message, { retryable: true, ...opts });
  }
}

/** The caller is not admitted to do this. */
export class NotAdmittedError extends MeshError {
  constructor(message: string, opts: MeshErrorOptions = {}) {
    super('NOT_ADMITTED', message, opts);
  }
}
