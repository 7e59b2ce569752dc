/**
 * Sandbox-process side: warm realms, one per (engine CID, memory limit). A realm is an
 * isolate with one context that harden.js hardened and prelude.js gave the engine's code,
 * compiled once as a function of its host API. Each task calls it again (run-task.ts), so
 * its top level gets a new scope while V8 keeps the code it compiled and optimised for
 * earlier tasks; a fresh context per task would start that over every time. A realm is
 * reused only if its task ended within its limits, harden.js's `unchanged` finds the
 * builtins it left unfrozen as they were, and it holds at most half its memory limit: `tidy`
 * checks that after the task's answer is sent, and `take` before a realm's next task if
 * `tidy` has not run yet.
 */
import { readFileSync } from 'node:fs';
import ivm from 'isolated-vm';

/** Where a realm's host callbacks send logs and progress: the running task's, set per task. */
export interface HostSlot {
  log(line: string): boolean;
  progress(fraction: number): void;
}

export interface WarmRealm {
  readonly isolate: ivm.Isolate;
  readonly context: ivm.Context;
  /** `start(input, params, maxOutputBytes)` from prelude.js: a result, or `pending`. */
  readonly start: ivm.Reference;
  /** `finish()` from prelude.js: awaits what `start` left pending. */
  readonly finish: ivm.Reference;
  /** `unchanged()` from harden.js: whether the builtins it did not freeze are as they were. */
  readonly unchanged: ivm.Reference;
  /** `collect()` from harden.js: a full garbage collection of the isolate. */
  readonly collect: ivm.Reference;
  readonly slot: HostSlot;
  /** The isolate's memory limit, MiB. */
  readonly memoryMb: number;
  /** Wall time of the realm's last task, ms; run-task.ts runs short engines synchronously. */
  lastTaskMs?: number;
}

export interface RealmSpec {
  cid: string;
  code: string;
  memoryMb: number;
}

/** A realm's place in the pool's cache. */
interface RealmKey {
  readonly key: string;
  readonly cid: string;
  readonly memoryMb: number;
}

export interface RealmPool {
  /** The engine's warm realm, when one is cached and intact; taken out of the cache. */
  take(spec: RealmSpec): WarmRealm | undefined;
  /** A new realm for the engine (compile errors are the engine's). */
  create(spec: RealmSpec): Promise<WarmRealm>;
  /** Gives the realm back; `healthy: false` disposes it instead of keeping it. */
  release(warm: WarmRealm, healthy: boolean): void;
  /** Checks the realms given back since the last call; disposes those a task changed. */
  tidy(): void;
  /** Disposes every cached realm. */
  clear(): void;
}

export interface RealmPoolOptions {
  /** Realms kept warm. 0 gives every task a fresh one. */
  size: number;
  /** Called when V8 loses control of an isolate; the process must end. */
  onCatastrophicError: (message: string) => void;
}

const script = (name: string) => readFileSync(new URL(name, import.meta.url), 'utf8');
const HARDEN = script('./harden.js');
const PRELUDE = script('./prelude.js');

/** Host side of a slot between tasks: nothing is running, so anything that arrives is dropped. */
export const IDLE_SLOT: HostSlot = { log: () => false, progress: () => {} };

export function createRealmPool(opts: RealmPoolOptions): RealmPool {
  // Map order is recency order: the first key is the least recently used.
  const cache = new Map<string, WarmRealm>();
  const keyOf = (s: RealmSpec) => `${s.cid}/${s.memoryMb}`;
  const keys = new WeakMap<WarmRealm, RealmKey>();
  // The key of the realm given back last: the next task is most often the same engine's, and
  // two string comparisons cost less than building its key again and hashing it.
  let lastKey: RealmKey | undefined;
  const keyFor = (spec: RealmSpec) =>
    lastKey?.cid === spec.cid && lastKey.memoryMb === spec.memoryMb ? lastKey.key : keyOf(spec);

  const dispose = (warm: WarmRealm) => {
    if (!warm.isolate.isDisposed) warm.isolate.dispose();
  };

  // Realms given back whose builtins and memory have not been checked since.
  const unchecked = new Set<WarmRealm>();
  const intact = (warm: WarmRealm) => {
    unchecked.delete(warm);
    if (heavy(warm)) return false;
    try {
      return warm.unchanged.applySync(undefined, [], { timeout: 1000 }) === true;
    } catch {
      return false;
    }
  };

  return {
    take(spec) {
      const key = keyFor(spec);
      const hit = cache.get(key);
      if (!hit) return undefined;
      cache.delete(key);
      if (!hit.isolate.isDisposed && (!unchecked.has(hit) || intact(hit))) return hit;
      dispose(hit);
      return undefined;
    },
    async create(spec) {
      const warm = await createRealm(spec, opts.onCatastrophicError);
      keys.set(warm, { key: keyOf(spec), cid: spec.cid, memoryMb: spec.memoryMb });
      return warm;
    },
    release(warm, healthy) {
      const known = keys.get(warm);
      if (!healthy || known === undefined || opts.size <= 0 || warm.isolate.isDisposed) {
        dispose(warm);
        return;
      }
      const { key } = known;
      lastKey = known;
      const old = cache.get(key);
      if (old && old !== warm) dispose(old);
      cache.set(key, warm);
      unchecked.add(warm);
      for (const [k, w] of cache) {
        if (cache.size <= opts.size) break;
        cache.delete(k);
        unchecked.delete(w);
        dispose(w);
      }
    },
    tidy() {
      for (const warm of [...unchecked]) {
        if (intact(warm)) continue;
        const key = keys.get(warm)?.key;
        if (key !== undefined && cache.get(key) === warm) cache.delete(key);
        dispose(warm);
      }
    },
    clear() {
      for (const warm of cache.values()) dispose(warm);
      cache.clear();
      unchecked.clear();
    },
  };
}

/**
 * Whether a realm holds more than half its memory limit between tasks, once its garbage is
 * collected. A task can keep data in a frozen realm (a private field added to a builtin) that
 * no later task can read but every later task would find missing from its memory; and warm
 * realms that hold much would count against the sandbox process's memory guard while another
 * engine runs (dispatch.ts).
 */
function heavy(warm: WarmRealm): boolean {
  if (warm.isolate.isDisposed) return true;
  const half = (warm.memoryMb * MiB) / 2;
  const held = () => {
    const heap = warm.isolate.getHeapStatisticsSync();
    return heap.used_heap_size + heap.externally_allocated_size;
  };
  if (held() <= half) return false;
  // Maybe only garbage: a full collection (a few ms, and only then) tells.
  try {
    warm.collect.applySync(undefined, [], { timeout: 1000 });
  } catch {
    return true;
  }
  return held() > half;
}

const MiB = 1024 * 1024;

async function createRealm(
  spec: RealmSpec,
  onCatastrophicError: (message: string) => void,
): Promise<WarmRealm> {
  const isolate = new ivm.Isolate({ memoryLimit: spec.memoryMb, onCatastrophicError });
  try {
    const context = await isolate.createContext();
    const harden = await isolate.compileScript(HARDEN, { filename: 'meshbot:harden.js' });
    const prelude = await isolate.compileScript(PRELUDE, { filename: 'meshbot:prelude.js' });
    const hardenFn: ivm.Reference = await harden.run(context, { reference: true });
    const tools: ivm.Reference = await hardenFn.apply(undefined, [], {
      result: { reference: true },
    });
    const unchanged: ivm.Reference = await tools.get('unchanged', { reference: true });
    const collect: ivm.Reference = await tools.get('collect', { reference: true });
    const reseed: ivm.Reference = await tools.get('reseed', { reference: true });
    const install: ivm.Reference = await prelude.run(context, { reference: true });
    const slot: HostSlot = { ...IDLE_SLOT };
    // Both callbacks are synchronous: a task that runs in a synchronous call (run-task.ts)
    // blocks this thread, and an asynchronous callback would reach the host only after it.
    // The prelude sends progress only in steps of 1% or more.
    const runner: ivm.Reference = await install.apply(
      undefined,
      [
        new ivm.Callback((line: string) => slot.log(line)),
        new ivm.Callback((fraction: number) => slot.progress(fraction)),
        spec.code,
        reseed.derefInto(),
      ],
      { result: { reference: true } },
    );
    const start: ivm.Reference = await runner.get('start', { reference: true });
    const finish: ivm.Reference = await runner.get('finish', { reference: true });
    return { isolate, context, start, finish, unchanged, collect, slot, memoryMb: spec.memoryMb };
  } catch (err) {
    if (!isolate.isDisposed) isolate.dispose();
    throw err;
  }
}
