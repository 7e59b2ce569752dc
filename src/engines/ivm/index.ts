export { DEFAULT_MAX_LIMITS } from './limits.ts';
export { createIvmRuntime, type IvmRuntime, type IvmRuntimeOptions } from './runtime.ts';
