/**
 * The worker reads a model's header to know whether it is multilingual: an English-only model
 * is asked for English, so that whisper.cpp does not run a language detection (a whole extra
 * encoder pass) whose answer it then ignores.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ModelHeaderError,
  readModelHeader,
  whisperLanguage,
} from '../../../src/whisper/model-header.ts';
import { makeScriptedModel } from '../../support/whisper-model/models.ts';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshbot-model-header-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readModelHeader', () => {
  it('tells an English-only model from a multilingual one', async () => {
    const en = await makeScriptedModel({ path: join(dir, 'en.bin'), phrase: 'hello there' });
    const multi = await makeScriptedModel({
      path: join(dir, 'multi.bin'),
      phrase: 'hello there',
      multilingual: true,
    });
    expect(await readModelHeader(en.path)).toEqual({ nVocab: 51864, multilingual: false });
    expect(await readModelHeader(multi.path)).toEqual({ nVocab: 51865, multilingual: true });
  });

  it('refuses a file that is no ggml model, with the model-load error code', async () => {
    const path = join(dir, 'junk.bin');
    await writeFile(path, 'GGUF and then some bytes');
    const err = await readModelHeader(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelHeaderError);
    expect((err as ModelHeaderError).code).toBe('MODEL_LOAD');
    await writeFile(path, 'lmgg');
    await expect(readModelHeader(path)).rejects.toBeInstanceOf(ModelHeaderError);
  });
});

describe('whisperLanguage', () => {
  it('asks an English-only model for English, whatever was asked', () => {
    expect(whisperLanguage('auto', false)).toBe('en');
    expect(whisperLanguage('de', false)).toBe('en');
  });
  it('passes the request through to a multilingual model', () => {
    expect(whisperLanguage('auto', true)).toBe('auto');
    expect(whisperLanguage('de', true)).toBe('de');
  });
});
