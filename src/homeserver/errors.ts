import { MeshError } from '../errors/index.ts';

export type HomeserverErrorCode =
  /** No way to run a homeserver here (no chroot, no Docker, no external URL). */
  | 'HS_UNAVAILABLE'
  /** The chroot is missing, half-built or broken. */
  | 'HS_NOT_PROVISIONED'
  /** Bad options or a bad data dir. */
  | 'HS_CONFIG'
  /** The process exited or never answered during start. */
  | 'HS_START_FAILED'
  /** Asked for `url` (or users) before `start()`. */
  | 'HS_NOT_STARTED'
  /** Registration or login was refused. */
  | 'HS_REGISTER_FAILED'
  /** An HTTP request to the homeserver failed (network, 5xx). */
  | 'HS_REQUEST_FAILED';

export interface HomeserverErrorOptions {
  retryable?: boolean;
  cause?: unknown;
  /** Extra diagnostics (e.g. the tail of Synapse's log): in `message`, not in `userMessage`. */
  details?: string;
}

/** Every failure of this module. */
export class HomeserverError extends MeshError {
  declare readonly code: HomeserverErrorCode;
  readonly details: string | undefined;

  constructor(code: HomeserverErrorCode, message: string, opts: HomeserverErrorOptions = {}) {
    super(code, opts.details === undefined ? message : `${message}\n${opts.details}`, {
      retryable: opts.retryable,
      cause: opts.cause,
      userMessage: message,
    });
    this.details = opts.details;
  }
}
