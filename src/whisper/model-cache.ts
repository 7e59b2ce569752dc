/**
 * Loaded whisper.cpp models, kept warm between tasks (loading base.en takes about a second
 * and 200 MB); the least recently used one is freed when more than `size` are loaded.
 */
import { WhisperModel } from 'smart-whisper';
import { readModelHeader } from './model-header.ts';

/** A loaded model and what its file header says (transcribe.ts needs to know the language). */
export interface LoadedModel {
  model: WhisperModel;
  multilingual: boolean;
}

export interface ModelCache {
  get(path: string): Promise<LoadedModel>;
  clear(): Promise<void>;
}

/** A model whisper.cpp refused to load. */
export class ModelLoadError extends Error {
  readonly code = 'MODEL_LOAD';
}

export function createModelCache(size: number): ModelCache {
  const loaded = new Map<string, Promise<LoadedModel>>();
  const load = async (path: string): Promise<LoadedModel> => {
    const { multilingual } = await readModelHeader(path);
    const model = await WhisperModel.load(path, false).catch((err: unknown) => {
      throw new ModelLoadError(`whisper.cpp could not load the model: ${String(err)}`);
    });
    return { model, multilingual };
  };
  const keep = Math.max(1, size);
  return {
    async get(path) {
      const model =
        loaded.get(path) ??
        load(path).catch((err: unknown) => {
          loaded.delete(path);
          throw err;
        });
      loaded.delete(path); // re-inserted below: the map's order is the LRU order
      loaded.set(path, model);
      while (loaded.size > keep) {
        const [oldest, first] = loaded.entries().next().value as [string, Promise<LoadedModel>];
        loaded.delete(oldest);
        void first.then((m) => m.model.free()).catch(() => {});
      }
      return model;
    },
    async clear() {
      const all = [...loaded.values()];
      loaded.clear();
      await Promise.allSettled(all.map((m) => m.then((x) => x.model.free())));
    },
  };
}
