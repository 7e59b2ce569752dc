import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { HomeserverError } from './errors.ts';
import type { RegisteredUser, RegisterUserOptions } from './types.ts';

export interface RegistrationTarget {
  /** Client-server API base URL. */
  url: string;
  /** Synapse's `registration_shared_secret`. */
  secret: string;
}

/**
 * A homeserver URL as API paths are appended to it: without the trailing slashes a URL copied
 * from a browser has (`https://host/` would be asked at `https://host//_matrix/…`).
 */
export function homeserverBase(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

/**
 * Creates `localpart` through Synapse's shared-secret admin API
 * (`/_synapse/admin/v1/register`); if the name is taken, logs in with `password` instead.
 */
export async function registerUser(
  target: RegistrationTarget,
  localpart: string,
  password: string,
  opts: RegisterUserOptions = {},
): Promise<RegisteredUser> {
  const endpoint = `${homeserverBase(target.url)}/_synapse/admin/v1/register`;
  const { nonce } = (await call('GET', endpoint, undefined, opts.signal)) as { nonce: string };
  const admin = opts.admin ?? false;
  const mac = createHmac('sha1', target.secret)
    .update(`${nonce}\0${localpart}\0${password}\0${admin ? 'admin' : 'notadmin'}`)
    .digest('hex');
  try {
    const body = { nonce, username: localpart, password, admin, mac };
    return toUser(await call('POST', endpoint, body, opts.signal));
  } catch (err) {
    if (err instanceof MatrixHttpError && err.errcode === 'M_USER_IN_USE') {
      return loginUser(target.url, localpart, password, opts.signal);
    }
    throw err;
  }
}

/** Password login; every call makes a new device and access token. */
export async function loginUser(
  url: string,
  localpart: string,
  password: string,
  signal?: AbortSignal,
): Promise<RegisteredUser> {
  const body = {
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user: localpart },
    password,
    initial_device_display_name: 'meshbot',
  };
  const endpoint = `${homeserverBase(url)}/_matrix/client/v3/login`;
  return toUser(await call('POST', endpoint, body, signal));
}

/** A Matrix error answer (`errcode`), surfaced as a typed homeserver error. */
export class MatrixHttpError extends HomeserverError {
  readonly status: number;
  readonly errcode: string | undefined;

  constructor(
    method: string,
    url: string,
    status: number,
    body: { errcode?: string; error?: string },
  ) {
    const what =
      `${method} ${new URL(url).pathname} failed: HTTP ${status} ${body.errcode ?? ''} ${body.error ?? ''}`.trim();
    super(status === 400 || status === 403 ? 'HS_REGISTER_FAILED' : 'HS_REQUEST_FAILED', what, {
      retryable: status >= 500,
    });
    this.status = status;
    this.errcode = body.errcode;
  }
}

const MAX_RATE_LIMIT_RETRIES = 20;

/** JSON request that waits out `M_LIMIT_EXCEEDED` (Synapse's default limits) instead of failing. */
async function call(
  method: string,
  url: string,
  body: unknown,
  signal?: AbortSignal,
): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: body === undefined ? undefined : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (err) {
      signal?.throwIfAborted();
      throw new HomeserverError(
        'HS_REQUEST_FAILED',
        `${method} ${url} failed: ${fetchFailure(err)}`,
        {
          retryable: true,
          cause: err,
        },
      );
    }
    const json = (await res.json().catch(() => ({}))) as {
      errcode?: string;
      error?: string;
      retry_after_ms?: number;
    };
    if (res.ok) return json;
    if (res.status === 429 && attempt < MAX_RATE_LIMIT_RETRIES) {
      const header = Number(res.headers.get('retry-after')) * 1000;
      await sleep(json.retry_after_ms ?? (header > 0 ? header : 1_000), undefined, { signal });
      continue;
    }
    throw new MatrixHttpError(method, url, res.status, json);
  }
}

/**
 * Why a request got no answer: fetch says only `TypeError: fetch failed`, with the reason (a
 * refused connection, an unknown host, a port fetch blocks) as its cause.
 */
function fetchFailure(err: unknown): string {
  const cause = err instanceof Error ? err.cause : undefined;
  if (cause instanceof Error) return cause.message || String((cause as { code?: unknown }).code);
  return String(err);
}

function toUser(json: unknown): RegisteredUser {
  const { user_id, access_token, device_id } = json as Record<string, unknown>;
  if (
    typeof user_id !== 'string' ||
    typeof access_token !== 'string' ||
    typeof device_id !== 'string'
  ) {
    throw new HomeserverError(
      'HS_REGISTER_FAILED',
      'The homeserver answered without user_id, access_token or device_id',
    );
  }
  return { userId: user_id, accessToken: access_token, deviceId: device_id };
}
