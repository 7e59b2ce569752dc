// fibsum-split: the first step of the whitepaper's fibonacci-sum. From {"n": N} (or N) it
// makes the list of indices 1..N; a map condition turns each into one fibsum-map task.

const MAX_N = 100000;

// biome-ignore lint/correctness/noUnusedVariables: the sandbox calls main.
function main(input) {
  const n = typeof input === 'number' ? input : input?.n;
  if (!Number.isInteger(n) || n < 0 || n > MAX_N) {
    throw new Error(`input must be {"n": N} or N, with 0 <= N <= ${MAX_N}`);
  }
  const indices = new Array(n);
  for (let i = 0; i < n; i++) indices[i] = i + 1;
  return JSON.stringify(indices);
}
