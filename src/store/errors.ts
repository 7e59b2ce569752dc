import { MeshError, type MeshErrorOptions } from '../errors/index.ts';

/** Bytes that do not hash to the CID they were offered for; never stored. */
export class CorruptBlockError extends MeshError {
  constructor(message: string, opts: MeshErrorOptions = {}) {
    super('CORRUPT_BLOCK', message, { retryable: true, ...opts });
  }
}

/** A CID whose hash function or codec this node does not accept. */
export class UnsupportedCidError extends MeshError {
  constructor(message: string, opts: MeshErrorOptions = {}) {
    super('UNSUPPORTED_CID', message, opts);
  }
}

/** Content larger than the caller's byte or block budget. */
export class TooLargeError extends MeshError {
  constructor(message: string, opts: MeshErrorOptions = {}) {
    super('TOO_LARGE', message, opts);
  }
}

/** The store was used before `start()` or after `stop()`. */
export class StoreNotStartedError extends MeshError {
  constructor(message = 'the block store is not started', opts: MeshErrorOptions = {}) {
    super('NOT_STARTED', message, { retryable: true, ...opts });
  }
}
