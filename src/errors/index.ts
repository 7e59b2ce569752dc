export * from './mesh-error.ts';
export * from './kinds.ts';
