import { MeshError, type MeshErrorOptions } from '../errors/index.ts';

/** Where a model file came from. `file` is a file the node's owner added (`Models.add`). */
export type ModelOrigin = 'mesh' | 'download' | 'file';

/** A model name that is neither configured nor added on this node. */
export class ModelUnknownError extends MeshError {
  readonly model: string;
  readonly known: readonly string[];

  constructor(model: string, known: readonly string[], opts: MeshErrorOptions = {}) {
    const list = known.length > 0 ? known.join(', ') : 'none';
    super('MODEL_UNKNOWN', `unknown Whisper model "${model}"; known models: ${list}`, {
      userMessage: `I don't know the Whisper model "${model}". Known models: ${list}`,
      ...opts,
    });
    this.model = model;
    this.known = known;
  }
}

const ORIGIN_TEXT: Record<ModelOrigin, string> = {
  mesh: 'a peer in the mesh',
  download: 'its download',
  file: 'the file given',
};

/**
 * A model file whose sha256 is not the pinned one. The file was deleted, never used; the same
 * source will send the same bytes again, so retrying it cannot help.
 */
export class ModelChecksumError extends MeshError {
  readonly model: string;
  readonly origin: ModelOrigin;
  readonly expected: string;
  /** The sha256 that arrived; absent when the transfer stopped early (it outgrew the size). */
  readonly actual: string | undefined;

  constructor(
    model: string,
    origin: ModelOrigin,
    expected: string,
    actual: string | undefined,
    opts: MeshErrorOptions & { detail?: string } = {},
  ) {
    const got = opts.detail ?? `got ${actual}`;
    super(
      'MODEL_CHECKSUM',
      `Whisper model "${model}" from ${origin}: sha256 should be ${expected}, ${got}`,
      {
        userMessage: `the Whisper model "${model}" from ${ORIGIN_TEXT[origin]} is not the expected file (sha256 mismatch), so it was discarded`,
        ...opts,
        retryable: false,
      },
    );
    this.model = model;
    this.origin = origin;
    this.expected = expected;
    this.actual = actual;
  }
}

/** No source delivered the model: not in the mesh in time, and no download (disabled or failed). */
export class ModelUnavailableError extends MeshError {
  readonly model: string;
  readonly reasons: readonly string[];

  constructor(model: string, reasons: readonly string[], opts: MeshErrorOptions = {}) {
    super('MODEL_UNAVAILABLE', `Whisper model "${model}" is unavailable: ${reasons.join('; ')}`, {
      userMessage: `the Whisper model "${model}" is not available right now (${reasons.join('; ')}); try again later`,
      retryable: true,
      ...opts,
    });
    this.model = model;
    this.reasons = reasons;
  }
}
