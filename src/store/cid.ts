import { createHash } from 'node:crypto';
import * as dagJson from '@ipld/dag-json';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import * as Digest from 'multiformats/hashes/digest';
import { BadInputError } from '../errors/index.ts';
import { CorruptBlockError, UnsupportedCidError } from './errors.ts';

export const SHA2_256 = 0x12;
export const RAW = raw.code;
export const DAG_PB = 0x70;
export const DAG_JSON = dagJson.code;
/** The codecs this node stores and walks. */
export const CODECS: ReadonlySet<number> = new Set([RAW, DAG_PB, DAG_JSON]);

/** Parses a CID string; throws BadInputError on anything else. */
export function cidFromString(s: string): CID {
  if (typeof s !== 'string' || s.length === 0 || s.length > 512) {
    throw new BadInputError(`not a valid CID: ${preview(s)}`);
  }
  try {
    return CID.parse(s.trim());
  } catch (err) {
    throw new BadInputError(`not a valid CID: ${preview(s)}`, { cause: err });
  }
}

/** The CID a string is, as it is (no trimming); undefined when it is none. */
export function cidOrUndefined(s: string): CID | undefined {
  try {
    return CID.parse(s);
  } catch {
    return undefined;
  }
}

/** Whether a string parses as a CID, as it is (no trimming). */
export function isCidString(s: string): boolean {
  return cidOrUndefined(s) !== undefined;
}

/** sha2-256 of bytes, synchronously (node:crypto), as a CIDv1 with the given codec. */
export function cidOf(codec: number, bytes: Uint8Array): CID {
  const digest = createHash('sha256').update(bytes).digest();
  return CID.createV1(codec, Digest.create(SHA2_256, new Uint8Array(digest)));
}

/** Throws unless the CID uses sha2-256 (full length) and a supported codec. */
export function assertSupported(cid: CID): void {
  if (cid.multihash.code !== SHA2_256 || cid.multihash.size !== 32) {
    throw new UnsupportedCidError(
      `unsupported hash 0x${cid.multihash.code.toString(16)} in ${cid}: only sha2-256 is accepted`,
    );
  }
  if (!CODECS.has(cid.code)) {
    throw new UnsupportedCidError(`unsupported codec 0x${cid.code.toString(16)} in ${cid}`);
  }
}

/** Throws CorruptBlockError unless bytes hash to the CID's multihash. */
export function verifyBlock(cid: CID, bytes: Uint8Array): void {
  assertSupported(cid);
  const digest = createHash('sha256').update(bytes).digest();
  if (!Buffer.from(cid.multihash.digest).equals(digest)) {
    throw new CorruptBlockError(`block bytes do not match ${cid}`, {
      userMessage: `a peer sent a corrupt copy of ${cid}`,
    });
  }
}

function preview(s: unknown): string {
  const text = typeof s === 'string' ? s : String(s);
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}
