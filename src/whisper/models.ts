/**
 * Content-addressed Whisper models. A model is a ggml file pinned by sha256; in a node's store it
 * is a UnixFS file with a CID its node announces. A node that lacks a model asks the mesh for it
 * by CID first, then downloads it from its public URL; either way the sha256 is checked before
 * the file gets its final name, `<dir>/<sha256>.bin`.
 */
import { copyFile, readdir, rename, rm } from 'node:fs/promises';
import { BadInputError } from '../errors/index.ts';
import { type Logger, silentLogger } from '../log/logger.ts';
import { cidFromString } from '../store/cid.ts';
import type { Store } from '../store/types.ts';
import { modelNameSchema } from './config.ts';
import { createFlights, type Emitter } from './flights.ts';
import {
  type Failures,
  fromMesh,
  fromUrl,
  type ModelProgress,
  transfer,
  type Wanted,
} from './model-download.ts';
import { ModelChecksumError, ModelUnavailableError, ModelUnknownError } from './model-errors.ts';
import { readModelHeader } from './model-header.ts';
import { createVerifier, hashFile, type IndexEntry, openModelIndex } from './model-index.ts';

export type { ModelProgress } from './model-download.ts';

export interface ModelInfo {
  name: string;
  sha256: string;
  cid?: string;
  bytes?: number;
}
export interface ModelFile {
  name: string;
  sha256: string;
  cid: string;
  path: string;
  bytes: number;
}
export interface EnsureOptions {
  /** The model's CID as a peer announced it: asked of the mesh before any download. */
  cid?: string;
  signal?: AbortSignal;
  /** Progress of a transfer, at most every 500 ms and once at the end of each source. */
  onProgress?: (p: ModelProgress) => void;
}

export interface ModelsOptions {
  /** The models folder, e.g. `<dataDir>/models`. */
  dir: string;
  store: Pick<Store, 'addFile' | 'catToFile' | 'hasBlock'>;
  /** The configured models by name (`whisper.models`). */
  sources: Record<string, { sha256: string; url: string; bytes?: number }>;
  /** Whether a model may be downloaded from its URL (`whisper.download`). */
  allowDownload: boolean;
  /** Longest wait for the next bytes from the mesh (the first block included). Default 30 000. */
  meshTimeoutMs?: number;
  /** Default: the global fetch. */
  fetch?: typeof fetch;
  log?: Logger;
  /** A progress bar on stderr while a model arrives. Default: when stderr is a TTY. */
  progressBar?: boolean;
}

export interface Models {
  /** The models this node has on disk, verified (for its node announcement). */
  local(): Promise<ModelInfo[]>;
  /** A model ready to load: from disk, else the mesh by cid, else the public source; sha256 verified. */
  ensure(name: string, opts?: EnsureOptions): Promise<ModelFile>;
  /** Adds a model file the user has (e.g. a custom or generated model) under a name; returns its info. */
  add(name: string, path: string, opts?: { signal?: AbortSignal }): Promise<ModelFile>;
}

const SHA256 = /^[0-9a-f]{64}$/;

export function createModels(opts: ModelsOptions): Models {
  const log = (opts.log ?? silentLogger).child({ component: 'whisper-models' });
  const index = openModelIndex(opts.dir, log);
  const verifier = createVerifier(log);
  const flights = createFlights<ModelFile, ModelProgress>(500);
  const meshTimeoutMs = opts.meshTimeoutMs ?? 30_000;
  const showBar = opts.progressBar ?? process.stderr.isTTY === true;
  const sourceOf = (name: string) =>
    Object.hasOwn(opts.sources, name) ? opts.sources[name] : undefined;

  const resolve = async (name: string): Promise<Wanted> => {
    const source = sourceOf(name);
    if (source) return { name, ...source, sha256: source.sha256.toLowerCase() };
    const entries = await index.entries();
    // Own entries only: a name such as `constructor` (a room member's model=) is no model.
    const entry = Object.hasOwn(entries, name) ? entries[name] : undefined;
    if (entry) return { name, sha256: entry.sha256 };
    const sha = name.toLowerCase();
    if (SHA256.test(sha)) {
      const named = Object.entries(opts.sources).find(([, s]) => s.sha256.toLowerCase() === sha);
      if (named) return { name: named[0], ...named[1], sha256: sha };
      const added = Object.entries(entries).find(([, e]) => e.sha256 === sha);
      return { name: added?.[0] ?? sha, sha256: sha };
    }
    const known = [...new Set([...Object.keys(opts.sources), ...Object.keys(entries)])].sort();
    throw new ModelUnknownError(name, known);
  };

  /** Records a verified file in the index, adding it to the store when the store lacks it. */
  const finish = async (w: Wanted, bytes: number, signal?: AbortSignal, cid?: string) => {
    const path = index.pathOf(w.sha256);
    const entries = await index.entries();
    const mine = Object.hasOwn(entries, w.name) ? entries[w.name] : undefined;
    const previous = mine?.sha256 === w.sha256 ? mine : undefined;
    let known = cid ?? previous?.cid ?? sameFile(entries, w.sha256)?.cid;
    if (known && !(await holds(known, signal))) known = undefined;
    known ??= (await opts.store.addFile(path, { signal })).toString();
    const entry: IndexEntry = { sha256: w.sha256, cid: known, bytes };
    if (previous?.cid !== entry.cid || previous?.bytes !== bytes) await index.set(w.name, entry);
    return { name: w.name, sha256: w.sha256, cid: known, path, bytes };
  };
  const holds = async (cid: string, signal?: AbortSignal) => {
    try {
      return await opts.store.hasBlock(cidFromString(cid), { signal });
    } catch {
      return false;
    }
  };

  const obtain = async (
    w: Wanted,
    cid: string | undefined,
    signal: AbortSignal,
    emit: Emitter<ModelProgress>,
  ) => {
    const onDisk = await verifier.check(index.pathOf(w.sha256), w.sha256, signal);
    if (onDisk !== undefined) return finish(w, onDisk, signal);
    const failures: Failures = { reasons: [] };
    const ctx = {
      log,
      signal,
      emit,
      showBar,
      failures,
      meshTimeoutMs,
      final: index.pathOf(w.sha256),
    };
    const meshCid = cid ?? sameFile(await index.entries(), w.sha256)?.cid;
    if (meshCid) {
      const got = await transfer(w, 'mesh', index.stagingPath(w.sha256, 'mesh'), ctx, (file, t) =>
        fromMesh(opts.store, meshCid, file, { ...t, stallMs: meshTimeoutMs }),
      );
      if (got) return finish(w, got.bytes, signal, meshCid);
    }
    if (!opts.allowDownload) failures.reasons.push('downloads are disabled on this node');
    else if (!w.url) failures.reasons.push('it has no download URL');
    else {
      const url = w.url;
      const got = await transfer(
        w,
        'download',
        index.stagingPath(w.sha256, 'download'),
        ctx,
        (file, t) => fromUrl(opts.fetch ?? fetch, url, file, { ...t, total: w.bytes }),
      );
      if (got) return finish(w, got.bytes, signal);
    }
    throw failures.checksum ?? new ModelUnavailableError(w.name, failures.reasons);
  };

  return {
    async local() {
      const entries = await index.entries();
      const out: ModelInfo[] = [];
      for (const [name, e] of Object.entries(entries)) {
        const bytes = await verifier.check(index.pathOf(e.sha256), e.sha256);
        if (bytes !== undefined) out.push({ name, sha256: e.sha256, cid: e.cid, bytes });
      }
      // A file whose index entry was lost (a crash between rename and index write) still counts.
      for (const file of await readdir(opts.dir).catch(() => [] as string[])) {
        const sha = file.endsWith('.bin') ? file.slice(0, -4) : '';
        if (!SHA256.test(sha) || out.some((m) => m.sha256 === sha)) continue;
        const names = Object.keys(opts.sources).filter(
          (n) => sourceOf(n)?.sha256.toLowerCase() === sha,
        );
        if (names.length === 0) continue;
        const bytes = await verifier.check(index.pathOf(sha), sha);
        if (bytes !== undefined) for (const name of names) out.push({ name, sha256: sha, bytes });
      }
      return out.sort((a, b) => a.name.localeCompare(b.name));
    },

    async ensure(name, o = {}) {
      if (o.cid !== undefined) cidFromString(o.cid); // a bad CID is the caller's error
      const w = await resolve(name);
      // One fetch per file, whatever name each caller used for it.
      const file = await flights.join(w.sha256, o, (signal, emit) =>
        obtain(w, o.cid, signal, emit),
      );
      return file.name === w.name ? file : { ...file, name: w.name };
    },

    async add(name, path, o = {}) {
      if (!modelNameSchema.safeParse(name).success)
        throw new BadInputError(`not a model name: ${JSON.stringify(name)}`);
      await index.entries(); // creates the folder
      const staging = index.stagingPath('add', 'file');
      try {
        await copyFile(path, staging);
      } catch (err) {
        throw new BadInputError(`cannot read the model file ${path}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      try {
        // Refused now, not when a task first loads it: the node would announce it to the mesh.
        await readModelHeader(staging).catch((err: unknown) => {
          throw new BadInputError(
            `${path} is not a ggml Whisper model (whisper.cpp would not load it)`,
            { cause: err },
          );
        });
        const { sha256, bytes } = await hashFile(staging, o.signal);
        const source = sourceOf(name);
        if (source && source.sha256.toLowerCase() !== sha256) {
          throw new ModelChecksumError(name, 'file', source.sha256.toLowerCase(), sha256);
        }
        await rename(staging, index.pathOf(sha256));
        return await finish({ name, sha256 }, bytes, o.signal);
      } finally {
        await rm(staging, { force: true });
      }
    },
  };
}

function sameFile(entries: Record<string, IndexEntry>, sha256: string): IndexEntry | undefined {
  return Object.values(entries).find((e) => e.sha256 === sha256 && e.cid !== undefined);
}
