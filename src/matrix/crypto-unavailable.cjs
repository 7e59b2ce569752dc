// Stand-in for @matrix-org/matrix-sdk-crypto-nodejs when its native library is missing.
// Loading succeeds; using any export throws, so encryption fails loudly, never silently.
'use strict';
const message =
  'end-to-end encryption is unavailable: the native library of ' +
  '@matrix-org/matrix-sdk-crypto-nodejs is not installed on this machine';
function unavailable() {
  throw new Error(message);
}
const handler = {
  get(_target, prop) {
    if (prop === '__esModule') return false;
    if (prop === 'then') return undefined;
    return new Proxy(unavailable, handler);
  },
  apply: unavailable,
  construct: unavailable,
};
module.exports = new Proxy(unavailable, handler);
