/**
 * The outputs a pipeline's stages read, from the results the book accepted, without holding up
 * an evaluation (one runs at a time per room, over all its pipelines):
 * - an output its worker reported over MAX_STAGE_VALUE_BYTES is `{cid}`, with nothing read;
 * - one in this node's store (small results come inline with their completion) is read at once;
 * - any other is fetched in the background, once at a time per result, and the room is
 *   evaluated again when it is in. A fetch that fails is tried again later, up to
 *   MAX_FETCHES times in all; then reading it fails, which ends its pipeline with the reason.
 */
import { NotFoundError } from '../errors/index.ts';
import {
  MAX_STAGE_VALUE_BYTES,
  readStageValue,
  type StageValue,
} from '../evaluator/stage-output.ts';
import type { RoomId } from '../ids.ts';
import type { NodeContext } from './context.ts';

/** Fetches of one output before its pipeline is given up (about 2.5 minutes in all). */
const MAX_FETCHES = 5;
/** The wait after a failed fetch, doubled after each. */
const FIRST_WAIT_MS = 5_000;
/** Results whose fetch is remembered (failed ones; a fetched one is forgotten at once). */
const KEEP_FETCHES = 1_000;

interface Fetch {
  pending: boolean;
  failures: number;
  retryAt: number;
  why?: string;
}

export class StageOutputs {
  readonly #ctx: NodeContext;
  readonly #arrived: (room: RoomId) => void;
  readonly #fetches = new Map<string, Fetch>();
  readonly #now: () => number;

  /** `arrived` is told of a room one of whose outputs was fetched. */
  constructor(
    ctx: NodeContext,
    arrived: (room: RoomId) => void,
    opts: { now?: () => number } = {},
  ) {
    this.#ctx = ctx;
    this.#arrived = arrived;
    this.#now = opts.now ?? Date.now;
  }

  /**
   * The output `result` names (of `bytes` bytes, if its worker said), when it can be read
   * now; undefined while it is being fetched. Throws NotFoundError once every fetch failed.
   */
  async read(room: RoomId, result: string, bytes?: number): Promise<StageValue | undefined> {
    if (bytes !== undefined && bytes > MAX_STAGE_VALUE_BYTES) return { cid: result };
    try {
      return await readStageValue(this.#ctx.store, result, { offline: true });
    } catch {
      // Not (all) here: fetched below.
    }
    const f = this.#fetches.get(result) ?? { pending: false, failures: 0, retryAt: 0 };
    if (f.failures >= MAX_FETCHES) {
      const why = `no node could give the output ${result} (${f.why ?? 'unknown error'})`;
      throw new NotFoundError(why, { retryable: false });
    }
    if (!f.pending && this.#now() >= f.retryAt) this.#fetch(room, result, f);
    return undefined;
  }

  #fetch(room: RoomId, result: string, f: Fetch): void {
    const ctx = this.#ctx;
    f.pending = true;
    this.#fetches.set(result, f);
    const timeout = AbortSignal.timeout(ctx.config.limits.fetchTimeoutMs);
    const signal = AbortSignal.any([ctx.signal, timeout]);
    readStageValue(ctx.store, result, { signal }).then(
      () => {
        this.#fetches.delete(result);
        this.#arrived(room);
      },
      (err: unknown) => {
        f.pending = false;
        f.failures++;
        f.retryAt = this.#now() + FIRST_WAIT_MS * 2 ** (f.failures - 1);
        f.why = err instanceof Error ? err.message : String(err);
        if (!ctx.signal.aborted)
          ctx.log.warn('could not fetch a stage output', { result, failures: f.failures, err });
        for (const [key, old] of this.#fetches) {
          if (this.#fetches.size <= KEEP_FETCHES) break;
          if (!old.pending) this.#fetches.delete(key);
        }
      },
    );
  }
}
