/**
 * Whisper model files for tests and benchmarks, generated because no real weights can be
 * downloaded here. Both kinds load into whisper.cpp and run the full encoder and decoder:
 * - scripted: small; transcribes any audio as a chosen phrase (see script.ts for how);
 * - random: the real tiny/base shapes with small seeded weights, for timing; its text is noise.
 */

import { constant, dense, sinusoids, sparseRows, uniform } from './fills.ts';
import type { Fill, ModelFile, TensorData, WhisperHparams } from './ggml-writer.ts';
import { writeGgmlModel } from './ggml-writer.ts';
import type { TensorSlot } from './layout.ts';
import { whisperTensors } from './layout.ts';
import { slaneyMelFilters } from './mel.ts';
import { scriptDecoder, scriptedTextContext } from './script.ts';
import { specialTokens, tokenize, vocabulary } from './vocab.ts';

export type { ModelFile } from './ggml-writer.ts';

/** Shapes of the real checkpoints (model card: d_model, layers, heads). */
export const WHISPER_SIZES = {
  tiny: { d: 384, layers: 4, heads: 6 },
  base: { d: 512, layers: 6, heads: 8 },
} as const;

export interface ScriptedModelOptions {
  path: string;
  /** What every transcription reads; tokenized with GPT-2 BPE exactly as given. */
  phrase: string;
  /** Width (default 64). The phrase may have 2^floor(log2 dModel) - 4 distinct tokens (- 5 multilingual). */
  dModel?: number;
  /** Encoder and decoder layers (default 1). */
  layers?: number;
  /** n_vocab 51865 (language tokens, <|transcribe|>) instead of English-only 51864. */
  multilingual?: boolean;
  /** Seed of the encoder's and attention's (inert) random weights. */
  seed?: number;
  signal?: AbortSignal;
}

export interface RandomModelOptions {
  path: string;
  size: keyof typeof WHISPER_SIZES;
  seed?: number;
  multilingual?: boolean;
  signal?: AbortSignal;
}

const WEIGHT_STD = 0.02;

function hparams(
  d: number,
  heads: number,
  layers: number,
  nVocab: number,
  nTextCtx = 448,
): WhisperHparams {
  return {
    nVocab,
    nAudioCtx: 1500, // 30 s of 10 ms mel frames, halved by conv2's stride
    nAudioState: d,
    nAudioHead: heads,
    nAudioLayer: layers,
    nTextCtx,
    nTextState: d,
    nTextHead: heads,
    nTextLayer: layers,
    nMels: 80,
    ftype: 1,
  };
}

/** Values every model shares: norms are identity, biases zero, encoder positions sinusoidal. */
function baseFill(slot: TensorSlot, hp: WhisperHparams, seed: number, index: number): Fill {
  switch (slot.role) {
    case 'norm-weight':
      return constant(1);
    case 'norm-bias':
    case 'bias':
      return constant(0);
    case 'positional':
      if (slot.stack === 'encoder') return dense(sinusoids(hp.nAudioCtx, hp.nAudioState));
      return uniform(seed + index * 0x9e3779b9, WEIGHT_STD / 2);
    default:
      return uniform(seed + index * 0x9e3779b9, WEIGHT_STD);
  }
}

async function write(
  path: string,
  hp: WhisperHparams,
  multilingual: boolean,
  fillFor: (slot: TensorSlot, index: number) => Fill,
  signal: AbortSignal | undefined,
): Promise<ModelFile> {
  const slots = whisperTensors(hp);
  const tensors = function* (): Generator<TensorData> {
    for (const [i, slot] of slots.entries()) yield { ...slot, fill: fillFor(slot, i) };
  };
  const filters = slaneyMelFilters({ nMels: hp.nMels });
  return writeGgmlModel(
    path,
    { hparams: hp, filters, vocab: vocabulary(multilingual), tensors: tensors() },
    { signal },
  );
}

/** A model whose greedy or beam decoding of any audio is <|0.00|> phrase <|30.00|> <|endoftext|>. */
export async function makeScriptedModel(opts: ScriptedModelOptions): Promise<ModelFile> {
  const d = opts.dModel ?? 64;
  const layers = opts.layers ?? 1;
  const multilingual = opts.multilingual ?? false;
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(d) || d < 8 || d % 2)
    throw new Error(`dModel must be an even integer >= 8, got ${d}`);
  const phrase = tokenize(opts.phrase);
  if (phrase.length === 0) throw new Error('phrase must not be empty');
  const special = specialTokens(multilingual);
  const nTextCtx = scriptedTextContext(phrase.length);
  const hp = hparams(d, d % 64 === 0 ? d / 64 : 1, layers, special.nVocab, nTextCtx);
  const script = scriptDecoder({ phrase, d, nTextCtx: hp.nTextCtx, special });
  return write(
    opts.path,
    hp,
    multilingual,
    (slot, i) => {
      if (slot.stack === 'decoder') {
        // The residual stream must stay token + position, so nothing may be added to it.
        if (slot.residualOut) return constant(0);
        if (slot.name === 'decoder.token_embedding.weight') return sparseRows(d, script.embeddings);
        if (slot.name === 'decoder.positional_embedding') return dense(script.positional);
        if (slot.name === 'decoder.ln.weight') return constant(script.finalNormWeight);
      }
      return baseFill(slot, hp, seed, i);
    },
    opts.signal,
  );
}

/** Real tiny/base shapes with small random weights: real compute, meaningless text. */
export async function makeRandomModel(opts: RandomModelOptions): Promise<ModelFile> {
  const size = WHISPER_SIZES[opts.size];
  if (!size) throw new Error(`unknown size ${String(opts.size)}`);
  const multilingual = opts.multilingual ?? false;
  const hp = hparams(size.d, size.heads, size.layers, specialTokens(multilingual).nVocab);
  const seed = opts.seed ?? 1;
  return write(opts.path, hp, multilingual, (slot, i) => baseFill(slot, hp, seed, i), opts.signal);
}
