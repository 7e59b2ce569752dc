import type { Logger } from '../log/logger.ts';
import { LogLevel, LogService } from './sdk.ts';

/**
 * Sends matrix-bot-sdk's own log lines into ours. Its errors are mostly expected answers
 * (e.g. M_NOT_FOUND for account data not set yet), so they are kept at warn, the rest at debug.
 * The SDK's logger is process-wide: the last node started owns it.
 */
export function routeSdkLogs(log: Logger): void {
  const sdk = log.child({ part: 'matrix-bot-sdk' });
  const text = (module: string, parts: unknown[]) =>
    `${module}: ${parts.map((p) => (typeof p === 'string' ? p : safeJson(p))).join(' ')}`.slice(
      0,
      2_000,
    );
  LogService.setLevel(LogLevel.INFO);
  LogService.setLogger({
    trace: () => {},
    debug: (m: string, ...p: unknown[]) => sdk.debug(text(m, p)),
    info: (m: string, ...p: unknown[]) => sdk.debug(text(m, p)),
    warn: (m: string, ...p: unknown[]) => sdk.warn(text(m, p)),
    error: (m: string, ...p: unknown[]) => sdk.warn(text(m, p)),
  });
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}
