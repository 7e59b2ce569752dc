import { CID } from 'multiformats/cid';
import type { InlineBlock } from '../protocol/events.ts';

/** Blocks travel in events as base64; the receiver verifies each against its CID. */
export function encodeInline(cid: CID, bytes: Uint8Array): InlineBlock {
  return { cid: cid.toString(), data: Buffer.from(bytes).toString('base64') };
}

export function decodeInline(block: InlineBlock): { cid: CID; bytes: Uint8Array } {
  return { cid: CID.parse(block.cid), bytes: new Uint8Array(Buffer.from(block.data, 'base64')) };
}

/** Bytes an inline block adds to an event (base64 plus the CID and JSON punctuation). */
export function inlineSize(bytes: Uint8Array): number {
  return Math.ceil(bytes.byteLength / 3) * 4 + 80;
}
