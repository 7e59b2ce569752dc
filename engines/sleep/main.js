// sleep: a busy wait, not a real sleep (an isolate has no timers), so it stands in for a
// CPU-bound task of known length in benchmarks and scheduling tests.
// biome-ignore lint/correctness/noUnusedVariables: the sandbox calls main.
function main(_input, params) {
  const raw = params.ms === undefined ? '10' : params.ms;
  if (!/^\d{1,9}$/.test(raw)) throw new RangeError(`ms must be a whole number, got ${raw}`);
  const ms = Number(raw);
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // spin
  }
  return 'ok';
}
