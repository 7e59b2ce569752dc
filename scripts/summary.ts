// Prints the closing line CI reads, `N passed, N failed`, from vitest's JSON report.
// Failed static checks (types, lint) count as failed too, and so do skipped tests: a test that
// did not run proves nothing (the Docker tests skip themselves when no Docker engine started).
// Exceptions: MESHBOT_DOCKER=off asks for the Docker tests to be skipped, and a run given
// arguments (a file or a name filter, `partial` here) skips the rest on purpose.
// vitest's own exit status counts when no test failed: it fails a run for errors outside any
// test (a promise rejection nobody handled), which its report does not record.
// Exits 1 when anything failed.
import { readFileSync } from 'node:fs';

const [file, checks = '0', partial = '0', vitestStatus = '0'] = process.argv.slice(2);
let passed = 0;
let failed = Number(checks);
try {
  const r = JSON.parse(readFileSync(file as string, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
    testResults: { status: string; assertionResults: unknown[] }[];
  };
  passed = r.numPassedTests;
  failed += r.numFailedTests;
  // A test file that failed to load has no assertions but must not pass silently.
  failed += r.testResults.filter(
    (t) => t.status === 'failed' && t.assertionResults.length === 0,
  ).length;
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  if (skipped > 0 && partial === '0') {
    if (process.env.MESHBOT_DOCKER === 'off') {
      console.log(`${skipped} skipped, as MESHBOT_DOCKER=off asks`);
    } else {
      console.log(`${skipped} skipped: counted as failed (see the [docker] lines above)`);
      failed += skipped;
    }
  }
} catch {
  failed += 1;
}
if (failed === 0 && vitestStatus !== '0') {
  console.log(
    `vitest exited with status ${vitestStatus} (errors outside the tests, above): 1 failed`,
  );
  failed = 1;
}
// A run where no test passed fails (its exit status always did): its line must say so too.
if (failed === 0 && passed === 0) {
  console.log('no test passed: 1 failed');
  failed = 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
