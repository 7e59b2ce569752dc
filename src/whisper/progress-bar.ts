/** Progress of a model transfer: a bar on a terminal, and throttled callbacks for chat edits. */

export interface ProgressStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): unknown;
}

export interface ProgressBar {
  update(bytes: number, total?: number): void;
  /** Ends the bar's line. Idempotent. */
  done(): void;
}

const REDRAW_MS = 100;
const MB = 1024 * 1024;

/** A one-line bar on `stream` (default stderr); draws nothing unless the stream is a TTY. */
export function createProgressBar(
  label: string,
  stream: ProgressStream = process.stderr,
  now: () => number = Date.now,
): ProgressBar {
  if (!stream.isTTY) return { update() {}, done() {} };
  const started = now();
  let drawn = 0;
  let last = { bytes: 0, total: undefined as number | undefined };
  let ended = false;
  const draw = () => {
    const { bytes, total } = last;
    const seconds = Math.max((now() - started) / 1000, 0.001);
    const rate = `${(bytes / MB / seconds).toFixed(1)} MB/s`;
    const size = total ? `${mb(bytes)}/${mb(total)} MB` : `${mb(bytes)} MB`;
    let line = `${label} ${size} ${rate}`;
    if (total) {
      const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - line.length - 10));
      const filled = Math.round((Math.min(bytes, total) / total) * width);
      const percent = `${Math.floor((Math.min(bytes, total) / total) * 100)}%`.padStart(4);
      line = `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${percent} ${size} ${rate}`;
    }
    stream.write(`\r${line}\x1b[K`);
  };
  return {
    update(bytes, total) {
      if (ended) return;
      last = { bytes, total };
      if (now() - drawn < REDRAW_MS) return;
      drawn = now();
      draw();
    },
    done() {
      if (ended) return;
      ended = true;
      draw();
      stream.write('\n');
    },
  };
}

function mb(bytes: number): string {
  return (bytes / MB).toFixed(1);
}

/**
 * Calls `fn` at most once per `intervalMs` (the first call at once), and `flush` delivers the
 * latest value if it was held back: a room sees the final figure.
 */
export function throttled<T>(fn: (value: T) => void, intervalMs: number, now = Date.now) {
  let lastAt = Number.NEGATIVE_INFINITY;
  let pending: { value: T } | undefined;
  const call = (value: T) => {
    pending = undefined;
    lastAt = now();
    try {
      fn(value);
    } catch {
      // A listener's failure must not break the transfer.
    }
  };
  return {
    push(value: T) {
      if (now() - lastAt >= intervalMs) call(value);
      else pending = { value };
    },
    flush() {
      if (pending) call(pending.value);
    },
  };
}
