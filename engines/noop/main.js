// noop: the smallest possible engine, so a benchmark measures the runtime and nothing else.
// biome-ignore lint/correctness/noUnusedVariables: the sandbox calls main.
function main() {
  return '';
}
