/**
 * The decoder weights of a scripted model: whatever the audio, greedy (or beam) decoding
 * emits <|0.00|>, the phrase, <|30.00|>, <|endoftext|>.
 *
 * With every attention and MLP output projection zero, the decoder's residual stream is just
 * x = token_embedding[input] + positional[position], and logits = final_ln(x) . token_embedding
 * (tied). Each token the script emits gets its own code: a zero-mean Hadamard row, so codes are
 * orthogonal and layer norm only rescales them. positional[p] = code(next) - embedding(input)
 * turns x into exactly code(next): the wanted token scores LOGIT, every other token 0.
 *
 * Three facts of whisper.cpp's decoding loop shape the rest:
 * - the last prompt token (sot; transcribe/translate in multilingual models) must lead to
 *   <|0.00|> wherever it sits, because later 30 s windows prepend the previous window's
 *   tokens: its embedding is PROMPT_GAIN x code(<|0.00|>), which outweighs any positional row;
 * - those windows start at known positions (1 + min(n_text_ctx/2, k x tokens-per-window) +
 *   prompt), so the script is laid out again at each of them, and n_text_ctx is chosen so that
 *   n_text_ctx/2 is a multiple of tokens-per-window: otherwise the first capped window would
 *   overlap the one before it at a different offset;
 * - with no_timestamps the prompt ends in <|notimestamps|> where <|0.00|> would be, so that
 *   token embeds like <|0.00|>, and the <|30.00|> step also hints <|endoftext|> for when
 *   timestamps are suppressed.
 */
import type { SpecialTokens } from './vocab.ts';
import { N_TIMESTAMPS } from './vocab.ts';

/** The scripted token's logit; others get 0. Far above log(51865) so p(script) ~ 1. */
const LOGIT = 48;
const PROMPT_GAIN = 4;
/** Share of <|endoftext|> at the <|30.00|> step: second best, wins if timestamps are off. */
const EOT_HINT = 0.5;
/** Off-script positions lean to <|endoftext|> so stray beams end instead of looping. */
const STRAY_EOT = 2;

export interface DecoderScript {
  /** Non-zero token embedding rows by token id. */
  embeddings: Map<number, Float32Array>;
  /** [nTextCtx][d] decoder positional embedding. */
  positional: Float32Array;
  /** Scalar weight of the final layer norm (its bias is 0). */
  finalNormWeight: number;
  /** What the decoder emits after the prompt. */
  emitted: number[];
}

/** Row `k + 1` of the Sylvester-Hadamard matrix of size n, zero-padded to d (row 0 is not zero-mean). */
function hadamardCode(k: number, n: number, d: number): Float32Array {
  const code = new Float32Array(d);
  for (let j = 0; j < n; j++) {
    let bits = (k + 1) & j;
    let parity = 0;
    while (bits) {
      parity ^= bits & 1;
      bits >>>= 1;
    }
    code[j] = parity ? -1 : 1;
  }
  return code;
}

const axpy = (y: Float32Array, a: number, x: Float32Array) => {
  for (let i = 0; i < y.length; i++) y[i] = (y[i] ?? 0) + a * (x[i] ?? 0);
};

/**
 * The text context for a phrase: the largest multiple of 2 x tokens-per-window up to the real
 * models' 448 (but room for at least two windows), so window starts never overlap mid-script.
 */
export function scriptedTextContext(phraseTokens: number): number {
  const perWindow = phraseTokens + 2;
  return 2 * perWindow * Math.max(2, Math.floor(448 / (2 * perWindow)));
}

/** Positions of the last prompt token in window 1, 2, ... until the past-text cap is reached. */
function windowStarts(promptLen: number, perWindow: number, nTextCtx: number): number[] {
  const cap = nTextCtx / 2; // whisper.cpp keeps at most n_text_ctx/2 past tokens
  const starts = [promptLen - 1];
  for (let k = 1; ; k++) {
    const past = Math.min(cap, k * perWindow);
    starts.push(1 + past + promptLen - 1); // <|startofprev|>, past tokens, prompt
    if (past === cap) return starts;
  }
}

export function scriptDecoder(opts: {
  phrase: readonly number[];
  d: number;
  nTextCtx: number;
  special: SpecialTokens;
}): DecoderScript {
  const { phrase, d, nTextCtx, special: sp } = opts;
  const tsEnd = sp.beg + N_TIMESTAMPS - 1;
  const sequence = [...phrase, tsEnd, sp.eot];
  const n = 2 ** Math.floor(Math.log2(d));
  const coded = [...new Set([sp.beg, tsEnd, sp.eot, ...phrase, ...(sp.langEn ? [sp.langEn] : [])])];
  if (coded.length > n - 1) {
    throw new Error(
      `a phrase of ${new Set(phrase).size} distinct tokens needs dModel >= ${2 ** Math.ceil(Math.log2(coded.length + 1))}`,
    );
  }
  const codes = new Map(coded.map((t, k) => [t, hadamardCode(k, n, d)]));
  const code = (t: number) => codes.get(t) ?? new Float32Array(d);
  const scaled = (t: number, a: number) => code(t).map((v) => v * a);

  const embeddings = new Map(codes);
  embeddings.set(sp.not, code(sp.beg));
  if (sp.langEn === undefined) {
    embeddings.set(sp.sot, scaled(sp.beg, PROMPT_GAIN));
  } else {
    // Language detection reads the logits after a lone <|startoftranscript|>: make it English.
    embeddings.set(sp.sot, scaled(sp.langEn, PROMPT_GAIN));
    embeddings.set(sp.transcribe, scaled(sp.beg, PROMPT_GAIN));
    embeddings.set(sp.translate, scaled(sp.beg, PROMPT_GAIN));
  }
  const embedding = (t: number) => embeddings.get(t) ?? new Float32Array(d);

  const promptLen = sp.langEn === undefined ? 1 : 3;
  const starts = windowStarts(promptLen, phrase.length + 2, nTextCtx);
  const steps = new Map<number, { input: number; output: number }>();
  for (const start of starts) {
    sequence.forEach((output, j) => {
      const q = start + 1 + j;
      const input = j === 0 ? sp.beg : (sequence[j - 1] ?? sp.beg);
      const known = steps.get(q);
      if (q >= nTextCtx || (known && (known.input !== input || known.output !== output))) {
        throw new Error(`n_text_ctx ${nTextCtx} cannot hold the script at position ${q}`);
      }
      steps.set(q, { input, output });
    });
  }
  const startSet = new Set(starts);
  const positional = new Float32Array(nTextCtx * d);
  for (let q = 0; q < nTextCtx; q++) {
    const row = positional.subarray(q * d, (q + 1) * d);
    const step = steps.get(q);
    if (step) {
      axpy(row, 1, code(step.output));
      if (step.output === tsEnd) axpy(row, EOT_HINT, code(sp.eot));
      axpy(row, -1, embedding(step.input));
    } else if (!startSet.has(q)) {
      axpy(row, STRAY_EOT, code(sp.eot));
    }
  }
  return {
    embeddings,
    positional,
    finalNormWeight: LOGIT / Math.sqrt(d * n),
    emitted: [sp.beg, ...sequence],
  };
}
