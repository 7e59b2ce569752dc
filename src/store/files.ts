import { unixfs } from '@helia/unixfs';
import type { CID } from 'multiformats/cid';
import { type BlockIo, unixfsBlockstore } from './blocks.ts';
import { DAG_JSON, RAW } from './cid.ts';
import { TooLargeError } from './errors.ts';
import type { GetOptions } from './types.ts';

/** UnixFS import settings every node must share so equal bytes give equal CIDs (IPIP-499). */
const IMPORT = { profile: 'unixfs-v1-2025', cidVersion: 1, rawLeaves: true } as const;

export function addFile(
  io: BlockIo,
  bytes: Uint8Array,
  opts: { signal?: AbortSignal },
): Promise<CID> {
  return unixfs({ blockstore: unixfsBlockstore(io) }).addBytes(bytes, {
    ...IMPORT,
    signal: opts.signal,
  });
}

/** A whole UnixFS file, or a raw / dag-json block's bytes; stops reading past maxBytes. */
export async function catFile(
  io: BlockIo,
  cid: CID,
  maxBytes: number,
  opts: GetOptions,
): Promise<Uint8Array> {
  const tooLarge = () => new TooLargeError(`${cid} is larger than ${maxBytes} bytes`);
  if (cid.code === RAW || cid.code === DAG_JSON) {
    const bytes = await io.getBlock(cid, opts);
    if (bytes.byteLength > maxBytes) throw tooLarge();
    return bytes;
  }
  const fs = unixfs({ blockstore: unixfsBlockstore(io, opts) });
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of fs.cat(cid, { signal: opts.signal })) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
