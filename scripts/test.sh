#!/usr/bin/env bash
# The test command: set everything up, check types, lint and format, then run every test
# against a real Synapse, helia and isolated-vm. The last line reads `N passed, N failed`.
set -uo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh" || exit 1
# setup.sh turns on errexit; here a failing step must not skip the closing summary line.
set +e
cd "$MESHBOT_ROOT"
failed_checks=0
echo "== typecheck (tsc)"; npx --no-install tsc --noEmit -p . || failed_checks=$((failed_checks + 1))
echo "== lint + format (biome)"; npx --no-install biome ci . || failed_checks=$((failed_checks + 1))
echo "== tests (vitest)"
report_dir="$(mktemp -d)"
trap 'rm -rf "$report_dir"' EXIT
report="$report_dir/vitest.json"
npx --no-install vitest run --reporter=default --reporter=json --outputFile="$report" "$@"
status=$?
node scripts/summary.ts "$report" "$failed_checks" "$#" "$status"
summary=$?
[ $status -eq 0 ] && [ $summary -eq 0 ] && [ $failed_checks -eq 0 ]
