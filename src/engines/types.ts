import type { CidString } from '../ids.ts';
import type { RuntimeKind as RuntimeKindName } from '../protocol/engines.ts';

/** Resource limits for one run. The parent process enforces them too. */
export interface EngineLimits {
  /** Heap limit of the isolate / memory limit of the container, MiB. */
  memoryMb: number;
  /** CPU time the engine code may use, ms. */
  cpuMs: number;
  /** Wall-clock time for the whole run, ms. */
  wallMs: number;
  /** Largest output accepted, bytes. */
  maxOutputBytes: number;
}

/** `engines/<name>/manifest.json`, validated by `manifestSchema`. */
export interface EngineManifest {
  name: string;
  version: string;
  runtime: RuntimeKindName;
  /** Entry file relative to the engine folder (isolated-vm; required there). */
  entry?: string;
  /**
   * The image (docker; required there): a digest (`sha256:<hex>`, `name@sha256:<hex>`), or a
   * local tag, which a node pins to the image's digest when it loads the engine.
   */
  image?: string;
  /** The command run in the container instead of the image's own (docker). */
  command?: string[];
  description: string;
  /** Usage text shown by `!help`, e.g. `!run wordcount <cid>`. */
  usage?: string;
  limits: EngineLimits;
  /** What the engine reads: raw bytes of a file, or a dag-json value. */
  input: 'bytes' | 'json';
}

/** An engine ready to run: its manifest, its code, and its content address. */
export interface EnginePackage {
  manifest: EngineManifest;
  /** JavaScript source of the entry file; empty for docker engines (the image is the code). */
  code: string;
  /** CID of the canonical dag-json package `{ manifest, code }`: same files, same CID. */
  cid: CidString;
}

export interface RunRequest {
  engine: EnginePackage;
  input: Uint8Array;
  params: Record<string, string>;
  /** Overrides of the manifest limits (each value is capped by the node's maximum). */
  limits?: Partial<EngineLimits>;
  signal?: AbortSignal;
  /** Progress reports from the engine, 0..1. */
  onProgress?: (fraction: number) => void;
  /** What the runtime is doing before the engine runs (fetching a model), for people. */
  onStatus?: (text: string) => void;
}

/** A part of a split run: one task of its own, on the same engine. */
export interface SplitPart {
  /** The part's input, already in the store. */
  input: string;
  params: Record<string, string>;
}

export interface RunResult {
  output: Uint8Array;
  /**
   * Set when the run split its input instead of finishing it (a long recording): each part
   * becomes a task, and the parts' results are joined by `join` into the answer.
   */
  split?: { parts: SplitPart[]; join: 'transcript' };
  /** Log lines the engine wrote, capped. */
  logs: string[];
  wallMs: number;
  cpuMs: number;
}

/** A sandbox that runs engine code. Errors thrown are `EngineError`s (see errors.ts). */
export interface EngineRuntime {
  readonly kind: EngineManifest['runtime'];
  start(): Promise<void>;
  stop(): Promise<void>;
  run(req: RunRequest): Promise<RunResult>;
  /**
   * Makes a package exact before a node offers it: a docker runtime pins an image tag to its
   * digest (a new CID). Throws `EngineRefusedError` when this node cannot run the package.
   * Absent: packages are taken as they are.
   */
  pin?(pkg: EnginePackage, opts?: { signal?: AbortSignal }): Promise<EnginePackage>;
}

/** The engine runtimes this node has. */
export type RuntimeKind = EngineManifest['runtime'];
