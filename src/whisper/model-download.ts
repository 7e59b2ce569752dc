/**
 * The two ways a model file reaches a node: from the mesh through the store (by CID; the store
 * asks peers for missing blocks and verifies each), and from its public URL. Both write a
 * staging file and report its sha256; the caller decides whether it may become the model.
 */
import { createHash } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { CID } from 'multiformats/cid';
import { MeshError, TimeoutError } from '../errors/index.ts';
import type { Logger } from '../log/logger.ts';
import type { Store } from '../store/types.ts';
import type { Emitter } from './flights.ts';
import { ModelChecksumError } from './model-errors.ts';
import { hashFile } from './model-index.ts';
import { createProgressBar } from './progress-bar.ts';

export interface ModelProgress {
  source: 'mesh' | 'download';
  bytes: number;
  total?: number;
}

/** A model as it is asked for: its name, pinned sha256 and, when configured, its source. */
export interface Wanted {
  name: string;
  sha256: string;
  url?: string;
  bytes?: number;
}

/** Largest model accepted when its size is not pinned. */
export const MAX_MODEL_BYTES = 8 * 1024 ** 3;

export interface Arrived {
  sha256: string;
  bytes: number;
}

export interface TransferOptions {
  signal: AbortSignal;
  /** Stop once more than this many bytes arrived. */
  maxBytes: number;
  onBytes: (bytes: number, total?: number) => void;
}

/** Thrown when a transfer outgrew maxBytes: the file cannot be the pinned one. */
export class TooLongError extends Error {}

/**
 * Streams the UnixFS file `cid` into `file`. Gives up when no byte arrives for `stallMs`
 * (finding the first block included): the mesh does not have it, or not within reach.
 */
export async function fromMesh(
  store: Pick<Store, 'catToFile'>,
  cid: string,
  file: string,
  opts: TransferOptions & { stallMs: number },
): Promise<Arrived> {
  const stall = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () => stall.abort(new TimeoutError(`no data from the mesh for ${opts.stallMs} ms`)),
      opts.stallMs,
    );
  };
  arm();
  try {
    await store.catToFile(CID.parse(cid), file, {
      signal: AbortSignal.any([opts.signal, stall.signal]),
      maxBytes: opts.maxBytes,
      onProgress: (bytes) => {
        arm();
        opts.onBytes(bytes);
      },
    });
  } catch (err) {
    if (opts.signal.aborted) throw opts.signal.reason;
    if (stall.signal.aborted) throw stall.signal.reason;
    if ((err as { code?: string }).code === 'TOO_LARGE') {
      throw new TooLongError(`${cid} is larger than ${opts.maxBytes} bytes`);
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return hashFile(file, opts.signal);
}

/**
 * A URL as messages show it: without a user and password, and without its query's values,
 * where a source may carry an access token. Messages reach logs, and the room.
 */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    for (const key of [...u.searchParams.keys()]) u.searchParams.set(key, '…');
    return u.toString();
  } catch {
    return '(a URL that does not parse)';
  }
}

/** Downloads `url` into `file`, hashing as it goes. */
export async function fromUrl(
  fetchFn: typeof fetch,
  url: string,
  file: string,
  opts: TransferOptions & { total?: number },
): Promise<Arrived> {
  const res = await fetchFn(url, { signal: opts.signal, redirect: 'follow' });
  if (!res.ok || !res.body) {
    await res.body?.cancel().catch(() => {});
    throw new Error(`${shownUrl(url)} answered HTTP ${res.status}`);
  }
  const length = Number(res.headers.get('content-length') ?? Number.NaN);
  const total = Number.isFinite(length) && length > 0 ? length : opts.total;
  const hash = createHash('sha256');
  const out = await open(file, 'w');
  let bytes = 0;
  try {
    for await (const chunk of res.body) {
      bytes += chunk.byteLength;
      if (bytes > opts.maxBytes) {
        throw new TooLongError(`${shownUrl(url)} sent more than ${opts.maxBytes} bytes`);
      }
      hash.update(chunk);
      await out.write(chunk);
      opts.onBytes(bytes, total);
    }
    await out.sync();
  } catch (err) {
    await out.close().catch(() => {});
    await rm(file, { force: true });
    throw opts.signal.aborted ? opts.signal.reason : err;
  }
  await out.close();
  return { sha256: hash.digest('hex'), bytes };
}

/** Why sources failed, for the final error: a checksum failure wins over unavailability. */
export interface Failures {
  reasons: string[];
  checksum?: ModelChecksumError;
}

export interface TransferContext {
  /** Where the model lives once verified. */
  final: string;
  log: Logger;
  signal: AbortSignal;
  emit: Emitter<ModelProgress>;
  showBar: boolean;
  meshTimeoutMs: number;
  failures: Failures;
}

/**
 * Runs one source into its staging file and gives the file its final name only when its sha256
 * is the pinned one; otherwise the file is deleted. A failure is recorded in `ctx.failures`
 * (the next source may still succeed); the caller's abort is rethrown.
 */
export async function transfer(
  w: Wanted,
  source: ModelProgress['source'],
  staging: string,
  ctx: TransferContext,
  run: (file: string, t: TransferOptions) => Promise<Arrived>,
): Promise<Arrived | undefined> {
  const bar = ctx.showBar ? createProgressBar(`${w.name} (${source})`) : undefined;
  try {
    const got = await run(staging, {
      signal: ctx.signal,
      maxBytes: w.bytes ?? MAX_MODEL_BYTES,
      onBytes: (bytes, total = w.bytes) => {
        bar?.update(bytes, total);
        ctx.emit.push({ source, bytes, total });
      },
    });
    if (got.sha256 !== w.sha256) throw new ModelChecksumError(w.name, source, w.sha256, got.sha256);
    await rename(staging, ctx.final);
    ctx.log.info('model fetched', { model: w.name, sha256: w.sha256, source, bytes: got.bytes });
    return got;
  } catch (err) {
    await rm(staging, { force: true });
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (err instanceof ModelChecksumError) ctx.failures.checksum = err;
    else if (err instanceof TooLongError) {
      ctx.failures.checksum = new ModelChecksumError(w.name, source, w.sha256, undefined, {
        detail: err.message,
      });
    } else ctx.failures.reasons.push(reasonOf(source, err, ctx.meshTimeoutMs));
    ctx.log.warn('model source failed', { model: w.name, source, err: String(err) });
    return undefined;
  } finally {
    ctx.emit.flush();
    bar?.done();
  }
}

function reasonOf(source: ModelProgress['source'], err: unknown, meshTimeoutMs: number): string {
  const message = err instanceof Error ? err.message : String(err);
  if (source === 'download') {
    const http = /HTTP \d+/.exec(message)?.[0];
    return `its download failed (${http ?? message.slice(0, 80)})`;
  }
  const code = err instanceof MeshError ? err.code : '';
  if (code === 'NOT_FOUND') return 'no peer in the mesh has it';
  const wait =
    meshTimeoutMs < 1000 ? `${meshTimeoutMs} ms` : `${Math.round(meshTimeoutMs / 1000)} s`;
  return code === 'TIMEOUT'
    ? `no peer in the mesh sent it within ${wait}`
    : 'fetching it from the mesh failed';
}
