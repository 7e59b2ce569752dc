/**
 * A UnixFS file's chunks, read with @helia/unixfs's exporter through a guard on every block it
 * reads. The exporter walks the file's DAG on its own, ahead of its reader, and two of its
 * ways are unsafe for a node that reads what peers send:
 * - it goes on walking when its reader stops (a file over its cap), fetching the rest of the
 *   file through the mesh and storing it;
 * - an error below the file's first level (a block not found, one that is not UnixFS, an
 *   aborted read) rejects a promise nobody handles, which ends a Node process.
 * So the guard never lets an error into the walk: the first one is kept and handed to the
 * reader, and the walk is left waiting on reads that never end (it is dropped with the
 * reader; no timer or listener keeps it). It also refuses a DAG that links one tiny block over
 * and over, and caps how far the walk reads ahead.
 */
import { unixfs } from '@helia/unixfs';
import * as dagPb from '@ipld/dag-pb';
import { UnixFS } from 'ipfs-unixfs';
import type { CID } from 'multiformats/cid';
import { BadInputError } from '../errors/index.ts';
import { type BlockIo, unixfsBlockstore } from './blocks.ts';
import { DAG_PB } from './cid.ts';
import { TooLargeError } from './errors.ts';
import type { GetOptions } from './types.ts';

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

/** What a read of the stopped walk waits on: nothing ever settles it. */
const never = <T>(): Promise<T> => new Promise<T>(() => {});

export async function* fileChunks(
  io: BlockIo,
  cid: CID,
  opts: GetOptions,
): AsyncGenerator<Uint8Array> {
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  let fail!: (err: unknown) => void;
  const failed = new Promise<never>((_, reject) => (fail = reject));
  failed.catch(() => {}); // Raced below; handled there.
  /** Ends the walk: its reads from now on never settle, and the reader gets `err`. */
  const halt = <T>(err: unknown): Promise<T> => {
    if (!stop.signal.aborted) {
      fail(err);
      stop.abort(err);
    }
    return never();
  };
  let reads = 0;
  let given = 0;
  const guarded: BlockIo = {
    async getBlock(c, o) {
      if (stop.signal.aborted) return never();
      reads += 1;
      if (reads > READ_SLACK + given / MIN_BYTES_PER_READ) {
        const message = `${cid} takes over ${reads} block reads for ${given} bytes`;
        const userMessage = `${cid} is not a file this node reads: its blocks repeat too often`;
        return halt(new TooLargeError(message, { userMessage }));
      }
      let bytes: Uint8Array;
      try {
        bytes = await io.getBlock(c, o);
      } catch (err) {
        return halt(err);
      }
      if (stop.signal.aborted) return never();
      const why = c.code === DAG_PB ? notAFileNode(bytes) : undefined;
      if (why) return halt(new BadInputError(`${cid} is not a UnixFS file: block ${c} ${why}`));
      return bytes;
    },
    putBlock: (c, bytes, o) => io.putBlock(c, bytes, o),
    hasBlock: (c, o) => io.hasBlock(c, o),
  };
  const fs = unixfs({ blockstore: unixfsBlockstore(guarded, { ...opts, signal }) });
  // @helia/unixfs hands its options to the exporter, whose option this is (not in CatOptions).
  const walk = fs.cat(cid, { signal, blockReadConcurrency: READ_AHEAD } as { signal: AbortSignal });
  const chunks = walk[Symbol.asyncIterator]();
  try {
    while (true) {
      const next = await Promise.race([chunks.next(), failed]);
      if (next.done) return;
      given += next.value.byteLength;
      yield next.value;
    }
  } finally {
    // The reader stopped (done, over its cap, or failed): so does the walk, and its fetches.
    if (!stop.signal.aborted) stop.abort(new Error('the reader stopped'));
  }
}

/**
 * Why a dag-pb block is not a node of a UnixFS file as the exporter reads one, or undefined
 * when it is: the exporter would throw these below the first level, out of anyone's reach.
 */
function notAFileNode(bytes: Uint8Array): string | undefined {
  let node: dagPb.PBNode;
  try {
    node = dagPb.decode(bytes);
  } catch {
    return 'is not dag-pb';
  }
  if (!node.Data) return 'has no UnixFS data';
  let data: UnixFS;
  try {
    data = UnixFS.unmarshal(node.Data);
  } catch {
    return 'has no valid UnixFS data';
  }
  if (node.Links.length !== data.blockSizes.length) return 'has links without sizes';
  return undefined;
}
