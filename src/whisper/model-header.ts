/**
 * What a ggml Whisper file says about itself before whisper.cpp loads it: its vocabulary size,
 * hence whether it is multilingual. Read by the worker process so that it can ask whisper.cpp
 * for what whisper.cpp will do anyway (English-only models never need language detection).
 */
import { open } from 'node:fs/promises';

/** 'ggml', little-endian: the legacy ggml Whisper file format that whisper.cpp reads. */
const GGML_MAGIC = 0x67676d6c;
/** whisper.cpp's `is_multilingual()`: the English-only vocabularies have 51864 tokens. */
const MULTILINGUAL_VOCAB = 51865;

/** A file whisper.cpp would refuse: not a ggml Whisper model. */
export class ModelHeaderError extends Error {
  readonly code = 'MODEL_LOAD';
}

export interface ModelHeader {
  nVocab: number;
  multilingual: boolean;
}

export async function readModelHeader(path: string): Promise<ModelHeader> {
  const file = await open(path, 'r');
  try {
    const buf = Buffer.alloc(8);
    const { bytesRead } = await file.read(buf, 0, 8, 0);
    if (bytesRead < 8 || buf.readUInt32LE(0) !== GGML_MAGIC) {
      throw new ModelHeaderError(`not a ggml Whisper model: ${path}`);
    }
    const nVocab = buf.readInt32LE(4);
    return { nVocab, multilingual: nVocab >= MULTILINGUAL_VOCAB };
  } finally {
    await file.close();
  }
}

/**
 * The language to ask whisper.cpp for. An English-only model transcribes English whatever it
 * is told, but whisper_full still runs language detection for 'auto' (a whole extra encoder
 * pass over the first 30 s, about 2 s of a 60 s clip with the base model on 2 cores) and then
 * ignores its answer. whisper.cpp's own CLI sets 'en' for these models; so does the mesh.
 */
export function whisperLanguage(requested: string, multilingual: boolean): string {
  return multilingual ? requested : 'en';
}
