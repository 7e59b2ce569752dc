/**
 * The 80-band mel filter bank Whisper ships (mel_filters.npz), recomputed: it is
 * `librosa.filters.mel(sr=16000, n_fft=400, n_mels=80)`, i.e. Slaney's mel scale (linear below
 * 1 kHz, logarithmic above) with Slaney area normalisation. whisper.cpp applies the filters from
 * the model file to every 400-sample FFT, so a wrong bank would change every input the encoder sees.
 */

export interface MelFilters {
  nMel: number;
  /** FFT bins, 1 + nFft/2. */
  nFft: number;
  /** Row-major [nMel][nFft]. */
  data: Float32Array;
}

const F_SP = 200 / 3; // Hz per mel in the linear part
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOG_STEP = Math.log(6.4) / 27;

const hzToMel = (hz: number): number =>
  hz >= MIN_LOG_HZ ? MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP : hz / F_SP;

const melToHz = (mel: number): number =>
  mel >= MIN_LOG_MEL ? MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL)) : F_SP * mel;

/** Triangular filters between consecutive mel-spaced edges, each scaled to unit area. */
export function slaneyMelFilters(
  opts: { sampleRate?: number; nFft?: number; nMels?: number } = {},
): MelFilters {
  const sampleRate = opts.sampleRate ?? 16_000;
  const nFftWindow = opts.nFft ?? 400;
  const nMel = opts.nMels ?? 80;
  const nFft = 1 + Math.floor(nFftWindow / 2);
  const maxMel = hzToMel(sampleRate / 2);
  const edges = Array.from({ length: nMel + 2 }, (_, i) => melToHz((maxMel * i) / (nMel + 1)));
  const data = new Float32Array(nMel * nFft);
  for (let m = 0; m < nMel; m++) {
    const [lo, mid, hi] = [edges[m] ?? 0, edges[m + 1] ?? 0, edges[m + 2] ?? 0];
    const enorm = 2 / (hi - lo);
    for (let k = 0; k < nFft; k++) {
      const f = (k * sampleRate) / nFftWindow;
      const rising = (f - lo) / (mid - lo);
      const falling = (hi - f) / (hi - mid);
      data[m * nFft + k] = Math.max(0, Math.min(rising, falling)) * enorm;
    }
  }
  return { nMel, nFft, data };
}
