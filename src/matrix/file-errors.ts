/**
 * Why a message replied to gives a command no input. All are bad input (never retried); each
 * has its class so that the command's answer can differ: a message without a file is wrong
 * usage, and the user gets the usage.
 */
import { BadInputError } from '../errors/index.ts';

/** The message replied to carries no file at all (a file of another kind is plain bad input). */
export class NoFileError extends BadInputError {}

/** The file is end-to-end encrypted: a node holds no room keys to decrypt it. */
export class EncryptedFileError extends BadInputError {
  constructor(refusal: string) {
    super(`${refusal} (end-to-end encryption)`);
  }
}

/** The file is larger than a node takes as a task input. */
export class FileTooLargeError extends BadInputError {
  readonly maxBytes: number;

  /** `size`: the size the message declares, when it was known before any download. */
  constructor(maxBytes: number, size?: number) {
    const is = size === undefined ? 'is' : `is ${bytes(size)},`;
    super(
      `the file ${is} larger than ${bytes(maxBytes)}, the largest input taken here (limits.maxInputBytes)`,
    );
    this.maxBytes = maxBytes;
  }
}

function bytes(n: number): string {
  const MiB = 1024 * 1024;
  if (n < MiB) return `${n} bytes`;
  const mib = n / MiB;
  return `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB`;
}
