/**
 * Writes the legacy ggml Whisper file that whisper.cpp's `whisper_model_load` reads: magic,
 * hyper-parameters, mel filter bank, vocabulary, then named tensors. The file is streamed (a
 * real-size model is ~150 MB) and hashed as it goes, so callers get its sha256 for free.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** "ggml" as whisper.cpp's GGML_FILE_MAGIC, written little-endian like every other field. */
const GGML_MAGIC = 0x67676d6c;
/** ggml_type ids the loader checks each tensor's stored element size against. */
const GGML_TYPE = { f32: 0, f16: 1 } as const;
/** Elements generated per fill call: bounds memory whatever the tensor size. */
const CHUNK = 1 << 16;
/** Bytes buffered before a write: fewer, larger writes than one per chunk. */
const FLUSH_AT = 1 << 20;

/** The 11 int32 hyper-parameters, in file order. `ftype` 1 means 2-D matrices are F16. */
export interface WhisperHparams {
  nVocab: number;
  nAudioCtx: number;
  nAudioState: number;
  nAudioHead: number;
  nAudioLayer: number;
  nTextCtx: number;
  nTextState: number;
  nTextHead: number;
  nTextLayer: number;
  nMels: number;
  ftype: number;
}

/** Fills `out` with the tensor's elements `[start, start + out.length)`, ne[0] fastest. */
export type Fill = (out: Float32Array, start: number) => void;

export interface TensorData {
  name: string;
  /** ggml order: ne[0] is the contiguous dimension (PyTorch's last). */
  shape: readonly number[];
  /** Must match the type whisper.cpp allocates for this name; the loader rejects others. */
  type: 'f32' | 'f16';
  fill: Fill;
}

export interface GgmlWhisperModel {
  hparams: WhisperHparams;
  /** Row-major [nMel][nFft] filter weights. */
  filters: { nMel: number; nFft: number; data: Float32Array };
  /** Token byte strings by id; the loader invents names for ids past the end. */
  vocab: readonly Uint8Array[];
  tensors: Iterable<TensorData>;
}

export interface ModelFile {
  path: string;
  sha256: string;
  bytes: number;
}

const int32s = (values: readonly number[]): Buffer => {
  const buf = Buffer.alloc(4 * values.length);
  for (const [i, v] of values.entries()) buf.writeInt32LE(v, 4 * i);
  return buf;
};

const floats = (data: Float32Array): Buffer =>
  Buffer.from(data.buffer, data.byteOffset, data.byteLength);

/** IEEE half from single bits, round-to-nearest-even (no Float16Array in the es2024 lib). */
function halfBits(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (exp === 0x80 + 15) return sign | 0x7c00 | (mant ? 0x200 : 0); // inf / nan
  if (exp >= 0x1f) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    const full = mant | 0x800000;
    const shift = 14 - exp;
    const rem = full & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    const half = full >>> shift;
    return sign | (half + (rem > mid || (rem === mid && half & 1) ? 1 : 0));
  }
  const half = (exp << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  return sign | (half + (rem > 0x1000 || (rem === 0x1000 && half & 1) ? 1 : 0));
}

function toF16(data: Float32Array): Buffer {
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  const out = new Uint16Array(data.length);
  for (let i = 0; i < bits.length; i++) out[i] = halfBits(bits[i] ?? 0);
  return Buffer.from(out.buffer);
}

function* header(model: GgmlWhisperModel): Generator<Buffer> {
  const h = model.hparams;
  yield int32s([
    GGML_MAGIC,
    h.nVocab,
    h.nAudioCtx,
    h.nAudioState,
    h.nAudioHead,
    h.nAudioLayer,
    h.nTextCtx,
    h.nTextState,
    h.nTextHead,
    h.nTextLayer,
    h.nMels,
    h.ftype,
  ]);
  const { nMel, nFft, data } = model.filters;
  if (data.length !== nMel * nFft)
    throw new Error(`mel filters: ${data.length} != ${nMel}x${nFft}`);
  yield int32s([nMel, nFft]);
  yield floats(data);
  yield int32s([model.vocab.length]);
  for (const token of model.vocab) {
    yield int32s([token.length]);
    yield Buffer.from(token);
  }
}

function* tensor(t: TensorData): Generator<Buffer> {
  const name = Buffer.from(t.name, 'utf8');
  yield int32s([t.shape.length, name.length, GGML_TYPE[t.type], ...t.shape]);
  yield name;
  const total = t.shape.reduce((a, b) => a * b, 1);
  for (let start = 0; start < total; start += CHUNK) {
    const chunk = new Float32Array(Math.min(CHUNK, total - start));
    t.fill(chunk, start);
    yield t.type === 'f16' ? toF16(chunk) : floats(chunk);
  }
}

/** Streams `model` to `path` (replacing it) and returns its size and sha256. */
export async function writeGgmlModel(
  path: string,
  model: GgmlWhisperModel,
  opts: { signal?: AbortSignal } = {},
): Promise<ModelFile> {
  const hash = createHash('sha256');
  const file = await open(path, 'w');
  let bytes = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    opts.signal?.throwIfAborted();
    const buf = Buffer.concat(pending, pendingBytes);
    pending = [];
    pendingBytes = 0;
    hash.update(buf);
    await file.write(buf);
    bytes += buf.length;
  };
  try {
    const parts = function* () {
      yield* header(model);
      for (const t of model.tensors) yield* tensor(t);
    };
    for (const part of parts()) {
      pending.push(part);
      pendingBytes += part.length;
      if (pendingBytes >= FLUSH_AT) await flush();
    }
    await flush();
  } finally {
    await file.close();
  }
  return { path, sha256: hash.digest('hex'), bytes };
}
