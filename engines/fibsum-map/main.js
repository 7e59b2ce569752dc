// fibsum-map: one element of the whitepaper's fibonacci-sum: F(i) for an index i (or
// {"i": i}), with F(1) = F(2) = 1. Exact: numbers past 2^53 are answered as decimal strings.

const MAX_I = 20000;

// An exact JSON value: a number when it is safe, else its decimal digits as a string.
function exact(big) {
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big.toString();
}

// biome-ignore lint/correctness/noUnusedVariables: the sandbox calls main.
function main(input) {
  const i = typeof input === 'number' ? input : input?.i;
  if (!Number.isInteger(i) || i < 0 || i > MAX_I) {
    throw new Error(`input must be an index i or {"i": i}, with 0 <= i <= ${MAX_I}`);
  }
  let a = 0n;
  let b = 1n;
  for (let k = 0; k < i; k++) {
    const next = a + b;
    a = b;
    b = next;
  }
  return JSON.stringify(exact(a));
}
