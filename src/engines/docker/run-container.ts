/**
 * One engine run in one container: input folder in, container created, attached, started,
 * watched (wall time, output size, the caller's signal), waited for, judged, removed.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type { Logger } from '../../log/logger.ts';
import {
  EngineAbortedError,
  EngineCrashedError,
  type EngineError,
  EngineFailedError,
  EngineMemoryError,
  EngineOutputError,
  EngineRefusedError,
  EngineTimeoutError,
} from '../errors.ts';
import type { EngineLimits, RunRequest, RunResult } from '../types.ts';
import type { ImageCache } from './image.ts';
import { runLabels } from './labels.ts';
import type { ResolvedDockerOptions } from './options.ts';
import { folderSize, readOutputFile } from './output.ts';
import { containerSpec } from './spec.ts';
import { CappedBytes, LogLines } from './streams.ts';

export interface RunDeps {
  docker: Docker;
  opts: ResolvedDockerOptions;
  images: ImageCache;
  logger: Logger;
}

/** Why the runtime stopped a container itself. */
type Stop = 'wall' | 'output' | 'abort';

/** SIGXCPU: RLIMIT_CPU ran out (exit code 128 + 24). */
const EXIT_SIGXCPU = 152;
/** SIGKILL (exit code 128 + 9). */
const EXIT_SIGKILL = 137;
/** SIGXFSZ: a file outgrew RLIMIT_FSIZE (exit code 128 + 25). */
const EXIT_SIGXFSZ = 153;

export async function runContainer(
  deps: RunDeps,
  req: RunRequest,
  limits: EngineLimits,
  signal: AbortSignal,
): Promise<RunResult> {
  const name = req.engine.manifest.name;
  const runId = randomBytes(6).toString('hex');
  const dir = join(deps.opts.workDir, runId);
  const inDir = join(dir, 'in');
  const outDir = join(dir, 'out');
  let container: Docker.Container | undefined;
  try {
    await prepareFolders(inDir, outDir, req);
    await deps.images.ensure(name, req.engine.manifest.image as string, signal);
    if (signal.aborted) throw new EngineAbortedError(name);
    const spec = containerSpec({
      pkg: req.engine,
      limits,
      params: req.params,
      inDir,
      outDir,
      labels: runLabels(deps.opts.owner, name, runId),
      opts: deps.opts,
    });
    container = await create(deps, name, spec);
    return await watch(deps, container, req, limits, signal, outDir);
  } finally {
    await container?.remove({ force: true }).catch((err: unknown) => {
      // A container that cannot be removed now is reaped at the next start.
      deps.logger.warn('could not remove a container', { id: container?.id, err });
    });
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

async function prepareFolders(inDir: string, outDir: string, req: RunRequest): Promise<void> {
  await mkdir(inDir, { recursive: true, mode: 0o755 });
  await mkdir(outDir, { recursive: true });
  // The engine runs as an unprivileged user; the folder is its only writable host path.
  await chmod(outDir, 0o777);
  await chmod(inDir, 0o755);
  await writeFile(join(inDir, 'input'), req.input, { mode: 0o644 });
  await writeFile(join(inDir, 'params.json'), JSON.stringify(req.params ?? {}), { mode: 0o644 });
}

async function create(deps: RunDeps, name: string, spec: Docker.ContainerCreateOptions) {
  try {
    return await deps.docker.createContainer(spec);
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode === 404) {
      deps.images.forget(spec.Image as string);
      throw new EngineRefusedError(name, `its image ${spec.Image} is not on this node`, {
        cause: err,
      });
    }
    throw new EngineCrashedError(
      name,
      `the container could not be created: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

async function watch(
  deps: RunDeps,
  container: Docker.Container,
  req: RunRequest,
  limits: EngineLimits,
  signal: AbortSignal,
  outDir: string,
): Promise<RunResult> {
  const name = req.engine.manifest.name;
  let stopped: Stop | undefined;
  const stopWith = (why: Stop) => {
    if (stopped) return;
    stopped = why;
    container.kill({ signal: 'SIGKILL' }).catch(() => {});
  };
  const stdout = new CappedBytes(limits.maxOutputBytes, () => stopWith('output'));
  const stderr = new LogLines();
  const stream = await container.attach({ stream: true, stdout: true, stderr: true });
  const ended = new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', () => resolve());
  });
  deps.docker.modem.demuxStream(stream, stdout, stderr);

  const started = performance.now();
  const onAbort = () => stopWith('abort');
  signal.addEventListener('abort', onAbort, { once: true });
  const wall = setTimeout(() => stopWith('wall'), limits.wallMs);
  const watcher = setInterval(() => {
    void folderSize(outDir).then((size) => {
      if (size > limits.maxOutputBytes) stopWith('output');
    });
  }, deps.opts.watchEveryMs);
  let exit: number;
  let oom = false;
  try {
    await container.start();
    exit = (await container.wait()).StatusCode as number;
    oom = (await container.inspect()).State.OOMKilled;
  } catch (err) {
    if (stopped === 'abort') throw new EngineAbortedError(name);
    throw new EngineCrashedError(name, `the Docker engine failed: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    clearTimeout(wall);
    clearInterval(watcher);
    signal.removeEventListener('abort', onAbort);
  }
  const wallMs = performance.now() - started;
  // The streams end with the container; a stuck one must not hold the run.
  await Promise.race([ended, new Promise((r) => setTimeout(r, 1000))]);
  (stream as unknown as { destroy?: () => void }).destroy?.();
  const logs = stderr.lines();
  const outBytes = await folderSize(outDir);
  const outcome = {
    exit,
    oom,
    stopped,
    logs,
    wallMs,
    outBytes,
    stdoutOverflowed: stdout.overflowed,
  };
  const failure = judge(name, limits, outcome);
  if (failure) throw failure;
  const file = await readOutputFile(outDir, limits.maxOutputBytes);
  if (file.kind === 'bad') throw new EngineOutputError(name, file.reason, { logs });
  // Docker keeps no CPU account of a container that has exited: the wall time stands in.
  return {
    output: file.kind === 'file' ? file.bytes : stdout.bytes(),
    logs,
    wallMs,
    cpuMs: wallMs,
  };
}

interface Outcome {
  exit: number;
  oom: boolean;
  stopped: Stop | undefined;
  logs: string[];
  wallMs: number;
  /** What the output folder holds. */
  outBytes: number;
  stdoutOverflowed: boolean;
}

function judge(name: string, limits: EngineLimits, o: Outcome): EngineError | undefined {
  const { logs } = o;
  if (o.stopped === 'abort') return new EngineAbortedError(name, undefined, { logs });
  if (o.stopped === 'wall') return new EngineTimeoutError(name, 'wall', limits.wallMs, { logs });
  // A write past RLIMIT_FSIZE fails (EFBIG) or kills the writer (SIGXFSZ): either way the
  // folder shows it.
  const tooBig = o.outBytes > limits.maxOutputBytes || o.exit === EXIT_SIGXFSZ;
  if (o.stopped === 'output' || o.stdoutOverflowed || tooBig) {
    const why = `the output is larger than ${limits.maxOutputBytes} bytes`;
    return new EngineOutputError(name, why, { logs });
  }
  if (o.oom) return new EngineMemoryError(name, limits.memoryMb, { logs });
  // RLIMIT_CPU: SIGXCPU at the soft limit, SIGKILL at the hard one (a container's PID 1
  // ignores SIGXCPU). A SIGKILL that neither we nor the OOM killer sent, after at least the
  // CPU budget of wall time, is the kernel enforcing it.
  const cpuKilled = o.exit === EXIT_SIGKILL && o.wallMs >= limits.cpuMs;
  if (o.exit === EXIT_SIGXCPU || cpuKilled) {
    return new EngineTimeoutError(name, 'cpu', limits.cpuMs, { logs });
  }
  if (o.exit !== 0) {
    const last = logs.filter((l) => l.trim() && l !== '[log truncated]').at(-1);
    const how =
      o.exit > 128 ? `was killed by signal ${o.exit - 128}` : `exited with code ${o.exit}`;
    return new EngineFailedError(name, last ? `${how}: ${last}` : how, { logs });
  }
  return undefined;
}
