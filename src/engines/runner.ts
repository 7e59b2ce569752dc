/**
 * The Runner of the whitepaper: `download(engine)` finds an authorized engine by CID (the
 * node's engines folder, or the mesh through the store) and `run(request)` hands it to the
 * runtime its manifest names. It holds the node's runtimes; one that cannot start (no Docker
 * on this machine) is left out, and its engines are neither offered nor run, with the reason.
 */
import { type Logger, silentLogger } from '../log/logger.ts';
import type { Store } from '../store/types.ts';
import { type Allowlist, parseAllowlist } from './allowlist.ts';
import { downloadEngine, packageValue } from './download.ts';
import { EngineRefusedError } from './errors.ts';
import type { EnginePackage, EngineRuntime, RunRequest, RunResult, RuntimeKind } from './types.ts';

/** What a node announces it can run. */
export interface EngineOffer {
  name: string;
  cid: string;
  /** Absent for `name@cid` allowlist entries not downloaded yet. */
  runtime?: RuntimeKind;
}

export interface RunnerOptions {
  runtimes: EngineRuntime[];
  /** Where packages are stored (so peers can download them) and downloaded from. */
  store?: Pick<Store, 'getDag' | 'putDag'>;
  /** Config `engines.allow` (see allowlist.ts). Default: empty (every local engine). */
  allow?: readonly string[];
  logger?: Logger;
  /** How long a download may look for a package in the mesh. Default 15000 ms. */
  downloadTimeoutMs?: number;
}

export interface Runner {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The runtimes that started. */
  kinds(): RuntimeKind[];
  /**
   * Takes the engines of the node's folder: keeps those allowed and runnable here (pinned by
   * their runtime), stores each package so peers can download it, and returns them by name.
   */
  load(
    engines: Map<string, EnginePackage>,
    opts?: { signal?: AbortSignal },
  ): Promise<Map<string, EnginePackage>>;
  /** The engines this node offers: loaded, downloaded, and announced `name@cid` entries. */
  offers(): EngineOffer[];
  /** An authorized engine by name and CID; throws EngineRefusedError with the reason. */
  download(
    ref: { name: string; cid: string },
    opts?: { signal?: AbortSignal },
  ): Promise<EnginePackage>;
  /** Runs a request in the runtime its engine's manifest names. */
  run(req: RunRequest): Promise<RunResult>;
}

export function createRunner(opts: RunnerOptions): Runner {
  const logger = (opts.logger ?? silentLogger).child({ component: 'runner' });
  const allow: Allowlist = parseAllowlist(opts.allow ?? []);
  const started = new Map<RuntimeKind, EngineRuntime>();
  const missing = new Map<RuntimeKind, string>();
  const byCid = new Map<string, EnginePackage>();
  const byName = new Map<string, EnginePackage>();

  const runtimeFor = (pkg: EnginePackage): EngineRuntime => {
    const kind = pkg.manifest.runtime;
    const runtime = started.get(kind);
    if (runtime) return runtime;
    // Why it did not start is in the node's log: the reason names host paths (a socket),
    // and this message reaches the room.
    const why = missing.has(kind) ? ': it did not start here' : '';
    throw new EngineRefusedError(pkg.manifest.name, `this node has no ${kind} runtime${why}`);
  };

  const keep = (pkg: EnginePackage) => {
    byCid.set(pkg.cid, pkg);
    if (!byName.has(pkg.manifest.name)) byName.set(pkg.manifest.name, pkg);
  };

  return {
    async start() {
      const results = await Promise.allSettled(opts.runtimes.map((r) => r.start()));
      results.forEach((result, i) => {
        const runtime = opts.runtimes[i] as EngineRuntime;
        if (result.status === 'fulfilled') {
          started.set(runtime.kind, runtime);
          missing.delete(runtime.kind);
        } else {
          const why = (result.reason as Error)?.message ?? String(result.reason);
          missing.set(runtime.kind, why);
          logger.warn('engine runtime unavailable; its engines are not offered', {
            runtime: runtime.kind,
            why,
          });
        }
      });
      if (started.size === 0)
        throw new EngineRefusedError('runner', 'no engine runtime could start');
    },

    async stop() {
      await Promise.allSettled([...started.values()].map((r) => r.stop()));
      started.clear();
    },

    kinds: () => [...started.keys()].sort(),

    async load(engines, loadOpts = {}) {
      for (const local of engines.values()) {
        const name = local.manifest.name;
        try {
          if (!allow.allows(local)) {
            // A CID on the allowlist names the pinned package; it is checked after pinning.
            if (local.manifest.runtime !== 'docker' || allow.open) continue;
          }
          const runtime = runtimeFor(local);
          const pkg = runtime.pin ? await runtime.pin(local, loadOpts) : local;
          if (!allow.allows(pkg)) continue;
          await opts.store?.putDag(packageValue(pkg), loadOpts);
          keep(pkg);
        } catch (err) {
          logger.warn('engine not offered', { engine: name, why: (err as Error).message });
        }
      }
      return new Map(byName);
    },

    offers() {
      const offers: EngineOffer[] = [...byCid.values()].map((p) => ({
        name: p.manifest.name,
        cid: p.cid,
        runtime: p.manifest.runtime,
      }));
      for (const o of allow.offered) if (!byCid.has(o.cid)) offers.push({ ...o });
      return offers.sort((a, b) => a.name.localeCompare(b.name) || a.cid.localeCompare(b.cid));
    },

    async download(ref, dlOpts = {}) {
      const have = byCid.get(ref.cid);
      if (have && have.manifest.name !== ref.name) {
        throw new EngineRefusedError(
          ref.name,
          `package ${ref.cid} is the engine ${have.manifest.name}`,
        );
      }
      if (have) return have;
      if (!allow.allowsDownload(ref.cid)) {
        const local = byName.get(ref.name);
        const why = local
          ? `this node runs another version of it (${local.cid}); put ${ref.cid} on its allowlist to run this one`
          : "it is not on this node's allowlist";
        throw new EngineRefusedError(ref.name, why);
      }
      if (!opts.store) throw new EngineRefusedError(ref.name, 'this node cannot download engines');
      const timeout = AbortSignal.timeout(opts.downloadTimeoutMs ?? 15_000);
      const signal = dlOpts.signal ? AbortSignal.any([dlOpts.signal, timeout]) : timeout;
      const pkg = await downloadEngine(opts.store, ref, { signal });
      const runtime = runtimeFor(pkg);
      const pinned = runtime.pin ? await runtime.pin(pkg, dlOpts) : pkg;
      if (pinned.cid !== pkg.cid) {
        throw new EngineRefusedError(ref.name, 'its image is not pinned by digest');
      }
      logger.info('engine downloaded', { engine: ref.name, cid: ref.cid });
      keep(pkg);
      return pkg;
    },

    run(req) {
      try {
        const pkg = req.engine;
        if (!allow.allows(pkg) && !byCid.has(pkg.cid)) {
          throw new EngineRefusedError(pkg.manifest.name, "it is not on this node's allowlist");
        }
        return keepLogs(runtimeFor(pkg).run(req), pkg, logger);
      } catch (err) {
        return Promise.reject(err);
      }
    },
  };
}

/** An engine's log lines (already capped by its runtime) go to the node's log with the run. */
function keepLogs(run: Promise<RunResult>, pkg: EnginePackage, logger: Logger): Promise<RunResult> {
  const engine = { engine: pkg.manifest.name, cid: pkg.cid };
  return run.then(
    (result) => {
      if (result.logs.length > 0) logger.info('engine log', { ...engine, logs: result.logs });
      return result;
    },
    (err: unknown) => {
      const logs = (err as { logs?: string[] }).logs ?? [];
      if (logs.length > 0) logger.info('engine log (failed run)', { ...engine, logs });
      throw err;
    },
  );
}
