import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type CatOptions, unixfs } from '@helia/unixfs';
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

/**
 * Blocks the exporter reads ahead of its reader, at most, on each level of a file's DAG. Left
 * to itself it asks for every child of a node at once: 1,024 blocks of 1 MiB for a file
 * refused at 64 MiB.
 */
const READ_AHEAD = 8;

/**
 * Block reads a file may take past one per MIN_BYTES_PER_READ of the bytes it gave so far.
 * IPFS tools cut files into chunks of 256 KiB or 1 MiB; a DAG whose nodes link one tiny
 * block over and over (a few hundred KB of blocks) would have a reader read a block per byte:
 * 64 million reads under a 64 MiB cap.
 */
const READ_SLACK = 1024;
const MIN_BYTES_PER_READ = 256;

/**
 * A UnixFS file's chunks. The exporter walks the DAG on its own, ahead of its reader, and
 * goes on when the reader stops: a reader that stops early (a file over its cap) aborts the
 * walk, which would otherwise fetch the rest of the file through the mesh and store it.
 */
async function* chunksOf(io: BlockIo, cid: CID, opts: GetOptions): AsyncIterable<Uint8Array> {
  if (cid.code === RAW || cid.code === DAG_JSON) {
    yield await io.getBlock(cid, opts);
    return;
  }
  let reads = 0;
  let given = 0;
  const counted: BlockIo = {
    async getBlock(c, o) {
      reads += 1;
      if (reads > READ_SLACK + given / MIN_BYTES_PER_READ) {
        throw new TooLargeError(`${cid} takes over ${reads} block reads for ${given} bytes`, {
          userMessage: `${cid} is not a file this node reads: its blocks repeat too often`,
        });
      }
      return io.getBlock(c, o);
    },
    putBlock: (c, bytes, o) => io.putBlock(c, bytes, o),
    hasBlock: (c, o) => io.hasBlock(c, o),
  };
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  const fs = unixfs({ blockstore: unixfsBlockstore(counted, { ...opts, signal }) });
  // @helia/unixfs hands its options to the exporter, whose option this is (not in CatOptions).
  const walk: CatOptions & { blockReadConcurrency: number } = {
    signal,
    blockReadConcurrency: READ_AHEAD,
  };
  try {
    for await (const chunk of fs.cat(cid, walk)) {
      given += chunk.byteLength;
      yield chunk;
    }
  } finally {
    stop.abort(new Error('the reader stopped'));
  }
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
