import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { unixfs } from '@helia/unixfs';
import type { CID } from 'multiformats/cid';
import { type BlockIo, unixfsBlockstore } from './blocks.ts';
import { DAG_JSON, RAW } from './cid.ts';
import { TooLargeError } from './errors.ts';
import { fileChunks } from './file-walk.ts';
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

/** Streams a file from disk into UnixFS with the same settings: the CID `addFile` gives its bytes. */
export function addFileFromDisk(
  io: BlockIo,
  path: string,
  opts: { signal?: AbortSignal },
): Promise<CID> {
  return unixfs({ blockstore: unixfsBlockstore(io) }).addByteStream(
    createReadStream(path, { signal: opts.signal }),
    { ...IMPORT, signal: opts.signal },
  );
}

export interface CatToFileOptions extends GetOptions {
  maxBytes?: number;
  onProgress?: (bytes: number) => void;
}

/**
 * Streams a UnixFS file (or a raw / dag-json block) to `path`: written to a temporary name in
 * the same folder and renamed when complete, so `path` never holds a partial file.
 */
export async function catFileToDisk(
  io: BlockIo,
  cid: CID,
  path: string,
  opts: CatToFileOptions,
): Promise<void> {
  const maxBytes = opts.maxBytes ?? Number.POSITIVE_INFINITY;
  await mkdir(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.part`);
  const out = await open(tmp, 'w');
  let closed = false;
  try {
    let total = 0;
    for await (const chunk of chunksOf(io, cid, opts)) {
      total += chunk.byteLength;
      if (total > maxBytes) throw new TooLargeError(`${cid} is larger than ${maxBytes} bytes`);
      await out.write(chunk);
      opts.onProgress?.(total);
    }
    await out.sync();
    closed = true;
    await out.close();
    await rename(tmp, path);
  } catch (err) {
    if (!closed) await out.close().catch(() => {});
    await rm(tmp, { force: true });
    throw err;
  }
}

/** A file's chunks: a raw or dag-json block whole, else the UnixFS file (file-walk.ts). */
async function* chunksOf(io: BlockIo, cid: CID, opts: GetOptions): AsyncIterable<Uint8Array> {
  if (cid.code === RAW || cid.code === DAG_JSON) {
    yield await io.getBlock(cid, opts);
    return;
  }
  yield* fileChunks(io, cid, opts);
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
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of chunksOf(io, cid, opts)) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
