export * from './kinds.ts';
export * from './mesh-error.ts';
export * from './zod.ts';
