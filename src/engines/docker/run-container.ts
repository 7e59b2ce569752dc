/**
 * One engine run in one container: input folder in, container created, attached, started,
 * watched (wall time, output size, the caller's signal), waited for, judged, removed.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type Docker from 'dockerode';
import type { Logger } from '../../log/logger.ts';
import {
  EngineAbortedError,
  EngineCrashedError,
  EngineError,
  EngineFailedError,
  EngineOutputError,
  EngineRefusedError,
} from '../errors.ts';
import type { EngineLimits, RunRequest, RunResult } from '../types.ts';
import { type Guard, guardContainer } from './guard.ts';
import type { ImageCache } from './image.ts';
import { judge } from './judge.ts';
import { KEEPER_GRACE_MS, type Keeper } from './keeper.ts';
import { runLabels } from './labels.ts';
import type { ResolvedDockerOptions } from './options.ts';
import { folderSize, readOutputFile } from './output.ts';
import { removeRunFolder, runFolder } from './run-folders.ts';
import { containerSpec, volumesRefusal } from './spec.ts';
import { CappedBytes, LogLines } from './streams.ts';

export interface RunDeps {
  docker: Docker;
  opts: ResolvedDockerOptions;
  images: ImageCache;
  logger: Logger;
  /** Removes the container past its wall limit should this process die meanwhile. */
  keeper?: Keeper;
}

export async function runContainer(
  deps: RunDeps,
  req: RunRequest,
  limits: EngineLimits,
  signal: AbortSignal,
): Promise<RunResult> {
  const name = req.engine.manifest.name;
  const runId = randomBytes(6).toString('hex');
  const dir = runFolder(deps.opts.workDir, runId);
  const inDir = join(dir, 'in');
  const outDir = join(dir, 'out');
  let container: Docker.Container | undefined;
  try {
    await prepareFolders(inDir, outDir, req);
    const image = await deps.images.ensure(name, req.engine.manifest.image as string, signal);
    const refusal = volumesRefusal(image.volumes);
    if (refusal) throw new EngineRefusedError(name, refusal);
    if (signal.aborted) throw new EngineAbortedError(name);
    const spec = containerSpec({
      pkg: req.engine,
      limits,
      params: req.params,
      inDir,
      outDir,
      labels: runLabels(deps.opts.owner, name, runId, limits.wallMs),
      opts: deps.opts,
      volumes: image.volumes,
    });
    container = await create(deps, name, spec);
    deps.keeper?.watch(container.id, Date.now() + limits.wallMs + KEEPER_GRACE_MS, dir);
    return await watch(deps, container, req, limits, signal, outDir);
  } finally {
    // With its anonymous volumes, if any slipped through (v: true).
    await container?.remove({ force: true, v: true }).catch((err: unknown) => {
      // A container that cannot be removed now is reaped at the next start.
      deps.logger.warn('could not remove a container', { id: container?.id, err });
    });
    if (container) deps.keeper?.done(container.id);
    await removeRunFolder(dir, deps.logger);
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

/**
 * Starts the container. dockerd answers 400 (an invalid parameter) when the image's command
 * cannot be run: not found, not executable, a file mounted on a folder. That is the engine's
 * fault and the same on every node, so it fails the task with dockerd's reason rather than
 * passing for a crashed sandbox that another attempt may get through.
 */
async function start(container: Docker.Container, name: string): Promise<void> {
  try {
    await container.start();
  } catch (err) {
    if ((err as { statusCode?: number }).statusCode !== 400) throw err;
    const why = `the container did not start: ${dockerReason(err)}`;
    throw new EngineFailedError(name, why, { cause: err });
  }
}

/** dockerd's own words, without dockerode's prefix nor the runtime's chain of wrappers. */
function dockerReason(err: unknown): string {
  const json = (err as { json?: { message?: unknown } }).json;
  const raw = typeof json?.message === 'string' ? json.message : String((err as Error).message);
  const said = raw.trim().replace(/^\(HTTP code \d+\)[^-]*- /, '');
  // runc: "failed to create task …: unable to start container process: exec: …: unknown"
  const cut = said.lastIndexOf('container process: ');
  const reason = cut >= 0 ? said.slice(cut + 'container process: '.length) : said;
  return reason.replace(/: unknown$/, '').trim();
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
  const { maxOutputBytes } = limits;
  const watchEveryMs = deps.opts.watchEveryMs;
  const guard: Guard = guardContainer(
    container,
    { wallMs: limits.wallMs, maxOutputBytes, outDir, watchEveryMs },
    signal,
  );
  const started = performance.now();
  let exit: number;
  let oom = false;
  let streams: Awaited<ReturnType<typeof attach>> | undefined;
  try {
    streams = await attach(deps, container, maxOutputBytes, () => guard.stop('output'));
    await start(container, name);
    // Stopped before it started (the kill found nothing running): stop it now.
    if (guard.stopped) await container.kill({ signal: 'SIGKILL' }).catch(() => {});
    exit = (await container.wait()).StatusCode as number;
    oom = (await container.inspect()).State.OOMKilled;
  } catch (err) {
    streams?.close();
    if (guard.stopped === 'abort') throw new EngineAbortedError(name);
    if (err instanceof EngineError) throw err;
    const why = `the Docker engine failed: ${(err as Error).message}`;
    throw new EngineCrashedError(name, why, { cause: err });
  } finally {
    guard.dispose();
  }
  const wallMs = performance.now() - started;
  const logs = await streams.finish();
  const failure = judge(name, limits, {
    exit,
    oom,
    stopped: guard.stopped,
    logs,
    wallMs,
    outBytes: await folderSize(outDir),
    stdoutOverflowed: streams.stdout.overflowed,
    forkRefusals: guard.forkRefusals,
    pidsLimit: deps.opts.pidsLimit,
  });
  if (failure) throw failure;
  const file = await readOutputFile(outDir, maxOutputBytes);
  if (file.kind === 'bad') throw new EngineOutputError(name, file.reason, { logs });
  const output = file.kind === 'file' ? file.bytes : streams.stdout.bytes();
  // Docker keeps no CPU account of a container that has exited: the wall time stands in.
  return { output, logs, wallMs, cpuMs: wallMs };
}

/** The container's stdout (the output, capped) and stderr (the log, capped). */
async function attach(
  deps: RunDeps,
  container: Docker.Container,
  maxOutputBytes: number,
  onOverflow: () => void,
) {
  const stdout = new CappedBytes(maxOutputBytes, onOverflow);
  const stderr = new LogLines();
  const stream = await container.attach({ stream: true, stdout: true, stderr: true });
  const ended = new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', () => resolve());
  });
  deps.docker.modem.demuxStream(stream, stdout, stderr);
  const close = () => (stream as unknown as { destroy?: () => void }).destroy?.();
  return {
    stdout,
    /** Waits for the streams to end with the container (a stuck one for 1 s at most). */
    async finish(): Promise<string[]> {
      await Promise.race([ended, new Promise((r) => setTimeout(r, 1000))]);
      close();
      return stderr.lines();
    },
    /** Drops the streams of a run that failed (a container that never started ends none). */
    close,
  };
}
