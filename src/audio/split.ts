/**
 * Long recordings go to Whisper in chunks (its window is 30 s; a mesh can also spread chunks
 * over nodes). A cut through a word garbles it on both sides, so each cut goes to the quietest
 * stretch shortly before the nominal boundary: a pause between sentences if there is one.
 */
import type { Pcm } from './types.ts';

export interface Chunk {
  /** First sample of the chunk. */
  startSample: number;
  /** One past its last sample: the next chunk's startSample. */
  endSample: number;
}

export interface PlanOptions {
  /** Nominal chunk length. */
  chunkSeconds: number;
  /** How far before each nominal boundary a cut may move. Default min(5 s, chunkSeconds / 4). */
  searchSeconds?: number;
  /**
   * The most chunks wanted (a mesh tracks only so many parts). Longer audio then gets longer
   * chunks: long enough that even with every cut moved as early as it may go, this many
   * cover it. Default: no limit.
   */
  maxChunks?: number;
}

/** Loudness is measured over frames of this length: a few pitch periods, shorter than a syllable. */
const FRAME_SECONDS = 0.025;
/**
 * A cut is scored by the loudest frame within this distance: the middle of a 300 ms pause
 * beats the short dip between two syllables, which is quiet for one frame only.
 */
const NEIGHBOURHOOD_FRAMES = 3;
/** Audio up to this many chunks long stays whole: better than a tail of a few seconds. */
const SLACK = 1.25;

/** Chunks that cover `pcm` exactly, in order, without overlap. */
export function planChunks(pcm: Pcm, opts: PlanOptions): Chunk[] {
  const total = pcm.samples.length;
  let chunk = Math.round(opts.chunkSeconds * pcm.sampleRate);
  if (!(chunk > 0))
    throw new RangeError(`chunkSeconds must be positive (got ${opts.chunkSeconds})`);
  const maxChunks = opts.maxChunks ?? Infinity;
  if (!(maxChunks >= 1 && (Number.isInteger(maxChunks) || maxChunks === Infinity)))
    throw new RangeError(`maxChunks must be a whole number >= 1 (got ${opts.maxChunks})`);
  const searchSeconds = opts.searchSeconds ?? Math.min(5, opts.chunkSeconds / 4);
  if (!(searchSeconds >= 0))
    throw new RangeError(`searchSeconds must be >= 0 (got ${searchSeconds})`);
  // Never search back past the middle of a chunk: cuts must make progress.
  const search = Math.min(Math.round(searchSeconds * pcm.sampleRate), Math.floor(chunk / 2));
  // A cut may land up to `search` before its nominal boundary, so a chunk is at least
  // chunk - search long: total / maxChunks + search makes maxChunks of them enough. Dividing
  // the audio alone (the nominal length) was not: 1 h in 36 s parts whose cuts each moved
  // 2.5 s earlier made 108 parts, more than a split plan may hold.
  if (maxChunks !== Infinity) chunk = Math.max(chunk, Math.ceil(total / maxChunks) + search);
  const frame = Math.max(1, Math.round(FRAME_SECONDS * pcm.sampleRate));
  const chunks: Chunk[] = [];
  let start = 0;
  // The count as well, whatever the rounding: the last chunk allowed takes the rest.
  while (chunks.length < maxChunks - 1 && total - start > chunk * SLACK) {
    const nominal = start + chunk;
    const cut = quietestPoint(pcm.samples, nominal - search, nominal, frame);
    chunks.push({ startSample: start, endSample: cut });
    start = cut;
  }
  if (total > start || chunks.length === 0) chunks.push({ startSample: start, endSample: total });
  return chunks;
}

/** The chunk's samples, sharing memory with `pcm` (no copy). */
export function sliceChunk(pcm: Pcm, chunk: Chunk): Pcm {
  return {
    sampleRate: pcm.sampleRate,
    samples: pcm.samples.subarray(chunk.startSample, chunk.endSample),
  };
}

/** Where the chunk starts, in ms: the offset its segments are shifted by. */
export function chunkOffsetMs(pcm: Pcm, chunk: Chunk): number {
  return (chunk.startSample / pcm.sampleRate) * 1000;
}

/** The centre of the quietest stretch in [from, to): a sample index strictly inside. */
function quietestPoint(x: Float32Array, from: number, to: number, frame: number): number {
  const frames = Math.floor((to - from) / frame);
  if (frames < 1) return to;
  const energy = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let i = from + f * frame, end = i + frame; i < end; i++) sum += (x[i] as number) ** 2;
    energy[f] = sum / frame; // mean square: ranks frames exactly as RMS does
  }
  const score = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    let loudest = 0;
    const lo = Math.max(0, f - NEIGHBOURHOOD_FRAMES);
    const hi = Math.min(frames - 1, f + NEIGHBOURHOOD_FRAMES);
    for (let g = lo; g <= hi; g++) loudest = Math.max(loudest, energy[g] as number);
    score[f] = loudest;
  }
  // Among the (near-)quietest frames take the longest run, and cut in its middle: in a
  // stretch of digital silence every frame ties, and the middle is furthest from speech.
  const min = Math.min(...score);
  const quiet = min * 1.5 + 1e-12;
  let best = { from: 0, length: 0 };
  for (let f = 0; f < frames; ) {
    if ((score[f] as number) > quiet) {
      f++;
      continue;
    }
    let g = f;
    while (g < frames && (score[g] as number) <= quiet) g++;
    if (g - f >= best.length) best = { from: f, length: g - f }; // ties: the later, nearer nominal
    f = g;
  }
  const middle = best.from + best.length / 2;
  return from + Math.round(middle * frame);
}
