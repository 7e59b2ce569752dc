/** Test helpers for the Synapse started by test/support/global-setup.ts. */
import { randomBytes } from 'node:crypto';
import { createClient, type ICreateClientOpts, type MatrixClient } from 'matrix-js-sdk';
import { inject } from 'vitest';
import { registerUser as register } from '../../src/homeserver/register.ts';
import type { RegisteredUser } from '../../src/homeserver/types.ts';
import type { ProvidedHomeserver } from './global-setup.ts';

export interface TestUser extends RegisteredUser {
  localpart: string;
  password: string;
}

/** The shared homeserver of this test run. */
export function testHomeserver(): ProvidedHomeserver {
  return inject('homeserver');
}

/** `base` plus a random suffix: tests share one homeserver, so names must not collide. */
export function uniqueLocalpart(base = 'user'): string {
  const clean = base.toLowerCase().replace(/[^a-z0-9._=-]/g, '-');
  return `${clean}-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/**
 * Registers a fresh user (`<localpart>-<random>`), or with `exact: true` uses `localpart` as
 * given: an existing user is then logged in with `password` and gets a new token.
 */
export async function registerUser(
  localpart = 'user',
  opts: { exact?: boolean; password?: string; admin?: boolean } = {},
): Promise<TestUser> {
  const hs = testHomeserver();
  const name = opts.exact === true ? localpart : uniqueLocalpart(localpart);
  const password = opts.password ?? `pw-${name}`;
  const user = await register({ url: hs.url, secret: hs.secret }, name, password, {
    admin: opts.admin,
  });
  return { ...user, localpart: name, password };
}

/** A matrix-js-sdk client for `user` (no crypto, not syncing: call startClient() if needed). */
export function clientFor(user: RegisteredUser): MatrixClient {
  return createClient({
    baseUrl: testHomeserver().url,
    accessToken: user.accessToken,
    userId: user.userId,
    deviceId: user.deviceId,
    logger: quietLogger,
  });
}

type Logger = NonNullable<ICreateClientOpts['logger']>;

/** matrix-js-sdk logs every HTTP request at debug level: keep only warnings and errors. */
const quietLogger: Logger = {
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (...msg: unknown[]) => console.warn(...msg),
  error: (...msg: unknown[]) => console.error(...msg),
  getChild: () => quietLogger,
};
