export { cidFromString, cidOf, verifyBlock } from './cid.ts';
export {
  CorruptBlockError,
  StoreNotStartedError,
  TooLargeError,
  UnsupportedCidError,
} from './errors.ts';
export { createStore, type LocalStore, type StoreOptions } from './store.ts';
export type { BlockFetcher, GetOptions, Store } from './types.ts';
