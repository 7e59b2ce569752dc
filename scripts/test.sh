#!/usr/bin/env bash
# The test command: set everything up, check types, lint and format, then run every test
# against a real Synapse, helia and isolated-vm. The last line reads `N passed, N failed`.
set -uo pipefail
# Not `. setup.sh || exit 1`: bash ignores errexit in every command of a `||` list, so a failed
# set-up step (npm install, say) went on, and its stamp said it had worked. A failed set-up
# still ends with the closing line.
trap 'echo "set-up failed (above)"; echo "0 passed, 1 failed"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
trap - EXIT
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
