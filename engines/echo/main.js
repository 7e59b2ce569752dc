// echo: returns the input bytes unchanged; useful to test a node's data path end to end.
// biome-ignore lint/correctness/noUnusedVariables: the sandbox calls main.
function main(input) {
  return input;
}
