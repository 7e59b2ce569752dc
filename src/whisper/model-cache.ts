/**
 * Loaded whisper.cpp models, kept warm between tasks (loading base.en takes about a second
 * and 200 MB); the least recently used one is freed when more than `size` are loaded.
 */
import { WhisperModel } from 'smart-whisper';

export interface ModelCache {
  get(path: string): Promise<WhisperModel>;
  clear(): Promise<void>;
}

/** A model whisper.cpp refused to load. */
export class ModelLoadError extends Error {
  readonly code = 'MODEL_LOAD';
}

export function createModelCache(size: number): ModelCache {
  const loaded = new Map<string, Promise<WhisperModel>>();
  const keep = Math.max(1, size);
  return {
    async get(path) {
      const model =
        loaded.get(path) ??
        WhisperModel.load(path, false).catch((err: unknown) => {
          loaded.delete(path);
          throw new ModelLoadError(`whisper.cpp could not load the model: ${String(err)}`);
        });
      loaded.delete(path); // re-inserted below: the map's order is the LRU order
      loaded.set(path, model);
      while (loaded.size > keep) {
        const [oldest, first] = loaded.entries().next().value as [string, Promise<WhisperModel>];
        loaded.delete(oldest);
        void first.then((m) => m.free()).catch(() => {});
      }
      return model;
    },
    async clear() {
      const all = [...loaded.values()];
      loaded.clear();
      await Promise.allSettled(all.map((m) => m.then((x) => x.free())));
    },
  };
}
