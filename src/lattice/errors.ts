import { MeshError, type MeshErrorOptions } from '../errors/index.ts';

/** A block that is not a valid GOHO root or leaf (hostile or corrupt peer data). */
export class BadBlockError extends MeshError {
  constructor(message: string, opts: MeshErrorOptions = {}) {
    super('BAD_BLOCK', message, { userMessage: 'a peer sent an invalid block', ...opts });
  }
}
