import { TooLargeError } from '../store/errors.ts';

/** No GOHO block (root, trie node or leaf) may be larger than this. */
export const MAX_BLOCK_BYTES = 1024 * 1024;

/** Limits on what one merge may read, so a hostile head cannot make a node fetch forever. */
export interface BudgetLimits {
  /** Blocks read (trie nodes, roots and leaves). Default 250 000. */
  maxBlocks: number;
  /** Bytes read. Default 256 MiB. */
  maxBytes: number;
}

export const DEFAULT_BUDGET: BudgetLimits = { maxBlocks: 250_000, maxBytes: 256 * 1024 * 1024 };

/** Counts the blocks and bytes one operation reads; throws TooLargeError past its limits. */
export class Budget {
  blocks = 0;
  bytes = 0;
  readonly limits: BudgetLimits;

  constructor(limits: Partial<BudgetLimits> = {}) {
    this.limits = { ...DEFAULT_BUDGET, ...limits };
  }

  charge(what: string, bytes: number): void {
    if (bytes > MAX_BLOCK_BYTES) {
      throw new TooLargeError(
        `${what} is ${bytes} bytes, over the ${MAX_BLOCK_BYTES}-byte block limit`,
      );
    }
    this.blocks += 1;
    this.bytes += bytes;
    if (this.blocks > this.limits.maxBlocks) {
      throw new TooLargeError(`read more than ${this.limits.maxBlocks} blocks (at ${what})`);
    }
    if (this.bytes > this.limits.maxBytes) {
      throw new TooLargeError(`read more than ${this.limits.maxBytes} bytes (at ${what})`);
    }
  }
}
