import type { CID } from 'multiformats/cid';
import { MeshError, NotFoundError, TimeoutError } from '../errors/index.ts';
import type { Logger } from '../log/logger.ts';
import { verifyBlock } from './cid.ts';
import { CorruptBlockError } from './errors.ts';
import type { BlockFetcher } from './types.ts';

export interface FetchOptions {
  signal?: AbortSignal;
  /** Whole budget for asking every fetcher, in milliseconds. */
  budgetMs: number;
  logger: Logger;
}

/**
 * Asks each fetcher in turn for a block and returns the first copy that verifies against
 * the CID. A fetcher that fails or sends corrupt bytes is skipped; when none succeeds the
 * error says why (corrupt > timeout > not found), and a caller's abort is rethrown as is.
 */
export async function fetchVerified(
  cid: CID,
  fetchers: readonly BlockFetcher[],
  opts: FetchOptions,
): Promise<Uint8Array> {
  const budget = AbortSignal.timeout(opts.budgetMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, budget]) : budget;
  let corrupt: CorruptBlockError | undefined;
  const failures: string[] = [];
  for (const fetcher of fetchers) {
    if (signal.aborted) break;
    try {
      const bytes = await fetcher.fetch(cid, { signal });
      verifyBlock(cid, bytes);
      return bytes;
    } catch (err) {
      if (opts.signal?.aborted) throw opts.signal.reason;
      if (err instanceof CorruptBlockError) {
        corrupt = err;
        opts.logger.warn('fetcher sent a corrupt block', {
          cid: cid.toString(),
          fetcher: fetcher.name,
        });
      } else if (err instanceof MeshError && err.code === 'UNSUPPORTED_CID') {
        throw err;
      } else {
        opts.logger.debug('fetcher failed', { cid: cid.toString(), fetcher: fetcher.name, err });
      }
      failures.push(`${fetcher.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (opts.signal?.aborted) throw opts.signal.reason;
  if (corrupt) throw corrupt;
  const tried = failures.length > 0 ? ` (${failures.join('; ')})` : '';
  if (budget.aborted) {
    throw new TimeoutError(`no fetcher returned ${cid} within ${opts.budgetMs} ms${tried}`, {
      userMessage: `block ${cid} could not be fetched in time`,
    });
  }
  throw new NotFoundError(
    fetchers.length === 0 ? `block ${cid} is not stored locally` : `block ${cid} not found${tried}`,
    { userMessage: `block ${cid} is not available in the mesh` },
  );
}
