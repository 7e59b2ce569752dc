import { open, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { HomeserverError } from './errors.ts';

/** A port on 127.0.0.1 that was free a moment ago (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export interface WaitForApiOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Resolves (with a reason) when the server process has died: stop waiting at once. */
  exited?: Promise<string>;
  /** Diagnostics to attach to the error, e.g. the tail of the log. */
  diagnose?: () => Promise<string>;
}

/** Polls `GET /_matrix/client/versions` until it answers 200. */
export async function waitForClientApi(url: string, opts: WaitForApiOptions): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let died: string | undefined;
  void opts.exited?.then((reason) => {
    died = reason;
  });
  let lastError = 'no answer yet';
  while (died === undefined && Date.now() < deadline) {
    opts.signal?.throwIfAborted();
    try {
      const res = await fetch(`${url}/_matrix/client/versions`, {
        signal: withTimeout(opts.signal, 2_000),
      });
      if (res.ok) return;
      lastError = `HTTP ${res.status}`;
    } catch (err) {
      lastError = err instanceof Error ? err.message : String(err);
    }
    // The loop's throwIfAborted() then throws the caller's own abort reason.
    await sleep(100, undefined, { signal: opts.signal }).catch(() => undefined);
  }
  opts.signal?.throwIfAborted();
  const why =
    died !== undefined
      ? `the process exited (${died})`
      : `no answer within ${opts.timeoutMs} ms (${lastError})`;
  throw new HomeserverError('HS_START_FAILED', `Synapse did not come up at ${url}: ${why}`, {
    retryable: died === undefined,
    details: opts.diagnose === undefined ? undefined : await opts.diagnose().catch(() => undefined),
  });
}

/** The last `lines` lines of a (possibly large or missing) file. */
export async function tailFile(path: string, lines = 40, maxBytes = 64 * 1024): Promise<string> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(path, 'r');
    const { size } = await handle.stat();
    const length = Math.min(size, maxBytes);
    const buf = Buffer.alloc(length);
    await handle.read(buf, 0, length, size - length);
    return buf
      .toString('utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n')
      .trimEnd();
  } catch {
    return `(no ${path})`;
  } finally {
    await handle?.close();
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Signals a whole process group; a group already gone is not an error. */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** SIGTERM the group, wait up to `timeoutMs` for `pid` to exit, then SIGKILL it. */
export async function terminateGroup(pid: number, timeoutMs: number): Promise<void> {
  killGroup(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) killGroup(pid, 'SIGKILL');
  while (isAlive(pid) && Date.now() < deadline + 5_000) await sleep(20);
}

/** The command line of a running process, or undefined (Linux /proc). */
export async function commandLine(pid: number): Promise<string | undefined> {
  try {
    return (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ');
  } catch {
    return undefined;
  }
}

/** `signal` (if any) combined with a timeout. */
export function withTimeout(signal: AbortSignal | undefined, ms: number): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
}
