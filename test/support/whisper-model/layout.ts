/**
 * The tensors whisper.cpp's loader allocates for given hyper-parameters: names, ggml shapes
 * (ne[0] first) and element types. The loader refuses a file that misses one, adds one, or
 * stores one with another shape or element size, so this mirrors `whisper_model_load` exactly.
 */
import type { WhisperHparams } from './ggml-writer.ts';

/** What a tensor is for, so a model builder can choose its values without parsing names. */
export type TensorRole =
  | 'positional'
  | 'token-embedding'
  | 'conv'
  | 'matrix'
  | 'bias'
  | 'norm-weight'
  | 'norm-bias';

export interface TensorSlot {
  name: string;
  shape: readonly number[];
  type: 'f32' | 'f16';
  role: TensorRole;
  /** A projection whose output is added back to the residual stream (attn.out, mlp.2). */
  residualOut: boolean;
  /** 'encoder' or 'decoder'. */
  stack: 'encoder' | 'decoder';
}

type Add = (name: string, shape: number[], role: TensorRole, residualOut?: boolean) => void;

function block(add: Add, prefix: string, d: number, cross: boolean): void {
  const attention = (a: string) => {
    add(`${prefix}.${a}_ln.weight`, [d], 'norm-weight');
    add(`${prefix}.${a}_ln.bias`, [d], 'norm-bias');
    add(`${prefix}.${a}.query.weight`, [d, d], 'matrix');
    add(`${prefix}.${a}.query.bias`, [d], 'bias');
    add(`${prefix}.${a}.key.weight`, [d, d], 'matrix'); // whisper has no key bias
    add(`${prefix}.${a}.value.weight`, [d, d], 'matrix');
    add(`${prefix}.${a}.value.bias`, [d], 'bias');
    add(`${prefix}.${a}.out.weight`, [d, d], 'matrix', true);
    add(`${prefix}.${a}.out.bias`, [d], 'bias', true);
  };
  attention('attn');
  if (cross) attention('cross_attn');
  add(`${prefix}.mlp_ln.weight`, [d], 'norm-weight');
  add(`${prefix}.mlp_ln.bias`, [d], 'norm-bias');
  add(`${prefix}.mlp.0.weight`, [d, 4 * d], 'matrix');
  add(`${prefix}.mlp.0.bias`, [4 * d], 'bias');
  add(`${prefix}.mlp.2.weight`, [4 * d, d], 'matrix', true);
  add(`${prefix}.mlp.2.bias`, [d], 'bias', true);
}

/** Every tensor of the model, encoder first. `ftype` 1: matrices and convolutions are F16. */
export function whisperTensors(hp: WhisperHparams): TensorSlot[] {
  if (hp.nAudioState !== hp.nTextState)
    throw new Error('whisper.cpp needs n_audio_state == n_text_state');
  if (hp.ftype !== 1) throw new Error('only ftype 1 (F16 matrices) is written');
  const slots: TensorSlot[] = [];
  const adder =
    (stack: 'encoder' | 'decoder'): Add =>
    (name, shape, role, residualOut = false) => {
      // Only matrices (and the token embedding and conv kernels) take the model's weight type;
      // positional embeddings, biases and norms stay F32 whatever ftype says.
      const f16 = role === 'matrix' || role === 'token-embedding' || role === 'conv';
      slots.push({ name, shape, type: f16 ? 'f16' : 'f32', role, residualOut, stack });
    };
  const d = hp.nAudioState;
  const enc = adder('encoder');
  enc('encoder.positional_embedding', [d, hp.nAudioCtx], 'positional');
  enc('encoder.conv1.weight', [3, hp.nMels, d], 'conv');
  enc('encoder.conv1.bias', [1, d], 'bias');
  enc('encoder.conv2.weight', [3, d, d], 'conv');
  enc('encoder.conv2.bias', [1, d], 'bias');
  for (let i = 0; i < hp.nAudioLayer; i++) block(enc, `encoder.blocks.${i}`, d, false);
  enc('encoder.ln_post.weight', [d], 'norm-weight');
  enc('encoder.ln_post.bias', [d], 'norm-bias');

  const dec = adder('decoder');
  dec('decoder.positional_embedding', [d, hp.nTextCtx], 'positional');
  dec('decoder.token_embedding.weight', [d, hp.nVocab], 'token-embedding');
  for (let i = 0; i < hp.nTextLayer; i++) block(dec, `decoder.blocks.${i}`, d, true);
  dec('decoder.ln.weight', [d], 'norm-weight');
  dec('decoder.ln.bias', [d], 'norm-bias');
  return slots;
}
