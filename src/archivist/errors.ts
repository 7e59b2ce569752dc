import { MeshError, type MeshErrorOptions } from '../errors/index.ts';

/** A garbage collection was asked for while one was running on the same store. */
export class GcBusyError extends MeshError {
  constructor(message = 'a garbage collection is already running', opts: MeshErrorOptions = {}) {
    super('GC_BUSY', message, { retryable: true, ...opts });
  }
}
