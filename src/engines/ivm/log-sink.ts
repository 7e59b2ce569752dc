/** Caps on what an engine may log per run: enough to debug, too little to flood a node. */
export const MAX_LOG_LINES = 200;
export const MAX_LOG_BYTES = 64 * 1024;
const TRUNCATED = '[log truncated]';

export interface LogSink {
  /** Takes one line; answers false once full, so the engine stops sending. */
  add: (line: string) => boolean;
  lines(): string[];
}

export function createLogSink(): LogSink {
  const lines: string[] = [];
  let bytes = 0;
  let full = false;
  return {
    add: (line) => {
      if (full) return false;
      const text = String(line);
      const size = Buffer.byteLength(text);
      // Keep one slot for the marker, so a reader knows lines are missing.
      if (lines.length >= MAX_LOG_LINES - 1 || bytes + size > MAX_LOG_BYTES) {
        lines.push(TRUNCATED);
        full = true;
        return false;
      }
      lines.push(text);
      bytes += size;
      return true;
    },
    lines: () => [...lines],
  };
}
