/**
 * The one place that imports matrix-bot-sdk: the crypto shim must be evaluated first.
 */
import './crypto-shim.ts';

export {
  LogLevel,
  LogService,
  MatrixClient,
  MatrixError,
  SimpleFsStorageProvider,
} from 'matrix-bot-sdk';
