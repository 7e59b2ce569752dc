/**
 * matrix-bot-sdk loads `@matrix-org/matrix-sdk-crypto-nodejs` eagerly, and that package's
 * native library is downloaded at install time — which fails on machines without access to
 * its download host. Without the library the whole SDK fails to import. This hook lets the
 * SDK load anyway: when the native package cannot be loaded, its import resolves to a stub
 * that throws a clear error the moment end-to-end encryption is actually used.
 * Where the native library is present it is used as is.
 *
 * Import this module before anything that imports matrix-bot-sdk.
 */
import { createRequire, registerHooks } from 'node:module';

const CRYPTO = '@matrix-org/matrix-sdk-crypto-nodejs';
const require = createRequire(import.meta.url);

function nativeCryptoLoads(): boolean {
  try {
    require(CRYPTO);
    return true;
  } catch {
    return false;
  }
}

export const nativeCryptoAvailable = nativeCryptoLoads();

if (!nativeCryptoAvailable) {
  const stubUrl = new URL('./crypto-unavailable.cjs', import.meta.url).href;
  registerHooks({
    resolve(specifier, context, nextResolve) {
      if (specifier === CRYPTO) return { url: stubUrl, shortCircuit: true, format: 'commonjs' };
      return nextResolve(specifier, context);
    },
  });
}
