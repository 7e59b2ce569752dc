// Prints the closing line CI reads, `N passed, N failed`, from vitest's JSON report.
// Failed static checks (types, lint) count as failed too. Exits 1 when anything failed.
import { readFileSync } from 'node:fs';

const [file, checks = '0'] = process.argv.slice(2);
let passed = 0;
let failed = Number(checks);
try {
  const r = JSON.parse(readFileSync(file as string, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numTotalTestSuites: number;
    testResults: { status: string; assertionResults: unknown[] }[];
  };
  passed = r.numPassedTests;
  failed += r.numFailedTests;
  // A test file that failed to load has no assertions but must not pass silently.
  failed += r.testResults.filter(
    (t) => t.status === 'failed' && t.assertionResults.length === 0,
  ).length;
} catch {
  failed += 1;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
