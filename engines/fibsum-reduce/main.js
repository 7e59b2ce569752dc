// fibsum-reduce: the last step of the whitepaper's fibonacci-sum: the sum of the mapped
// values, a JSON array (or {"values": [...]}) of integers or decimal strings. Exact: a sum
// past 2^53 is answered as a decimal string.

function toBig(v, at) {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?[0-9]{1,100000}$/.test(v)) return BigInt(v);
  throw new Error(`value ${at} is not an integer or a decimal string`);
}

// biome-ignore lint/correctness/noUnusedVariables: the sandbox calls main.
function main(input) {
  const values = Array.isArray(input) ? input : input?.values;
  if (!Array.isArray(values)) throw new Error('input must be an array of integers');
  let sum = 0n;
  for (let k = 0; k < values.length; k++) sum += toBig(values[k], k);
  const safe = sum <= BigInt(Number.MAX_SAFE_INTEGER) && sum >= -BigInt(Number.MAX_SAFE_INTEGER);
  return JSON.stringify(safe ? Number(sum) : sum.toString());
}
