import { throttled } from './progress-bar.ts';

/** Progress fan-out of one shared operation: throttled, with a final figure on `flush`. */
export interface Emitter<P> {
  push(progress: P): void;
  flush(): void;
}

interface Flight<T, P> {
  promise: Promise<T>;
  controller: AbortController;
  listeners: Set<(progress: P) => void>;
  users: number;
}

/**
 * One operation per key, shared by every caller that asks while it runs. Each caller keeps its
 * own abort signal and progress listener; the operation itself is aborted only when every
 * caller has given up.
 */
export function createFlights<T, P>(progressIntervalMs: number) {
  const flights = new Map<string, Flight<T, P>>();

  const begin = (key: string, start: (signal: AbortSignal, emit: Emitter<P>) => Promise<T>) => {
    const flight: Flight<T, P> = {
      promise: Promise.resolve() as Promise<T>,
      controller: new AbortController(),
      listeners: new Set(),
      users: 0,
    };
    const emit = throttled((p: P) => {
      for (const listener of flight.listeners) listener(p);
    }, progressIntervalMs);
    flight.promise = start(flight.controller.signal, emit).finally(() => {
      if (flights.get(key) === flight) flights.delete(key);
    });
    flights.set(key, flight);
    return flight;
  };

  return {
    join(
      key: string,
      caller: { signal?: AbortSignal; onProgress?: (progress: P) => void },
      start: (signal: AbortSignal, emit: Emitter<P>) => Promise<T>,
    ): Promise<T> {
      caller.signal?.throwIfAborted();
      const flight = flights.get(key) ?? begin(key, start);
      const listener = caller.onProgress;
      flight.users++;
      if (listener) flight.listeners.add(listener);
      return new Promise<T>((resolve, reject) => {
        let left = false;
        const leave = () => {
          if (left) return;
          left = true;
          caller.signal?.removeEventListener('abort', onAbort);
          if (listener) flight.listeners.delete(listener);
          if (--flight.users > 0 || flight.controller.signal.aborted) return;
          if (flights.get(key) !== flight) return;
          // Nobody waits any more: a later caller starts afresh rather than joining an abort.
          flights.delete(key);
          flight.controller.abort(caller.signal?.reason);
        };
        const onAbort = () => {
          leave();
          reject(caller.signal?.reason);
        };
        caller.signal?.addEventListener('abort', onAbort, { once: true });
        flight.promise.then(
          (value) => {
            leave();
            resolve(value);
          },
          (err: unknown) => {
            leave();
            reject(err);
          },
        );
      });
    },
  };
}
