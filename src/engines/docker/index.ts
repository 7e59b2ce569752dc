export { isDigest } from './image.ts';
export { LABEL, reapContainers } from './labels.ts';
export { type DockerRuntimeOptions, socketFromEnv } from './options.ts';
export { createDockerRuntime, type DockerRuntime } from './runtime.ts';
export { INPUT_FILE, OUT_DIR, OUTPUT_FILE, PARAMS_FILE } from './spec.ts';
