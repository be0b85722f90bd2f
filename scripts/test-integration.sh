#!/usr/bin/env bash
# The integration tier as two vitest runs side by side, each one file at a time: the project `integration`
# (the Debian builds and every file that copies them, podman, the PostgreSQL clusters, NAT) and
# `integration-2` (SECOND_LANE in vitest.config.ts: files that share nothing with those but the host).
# Most files wait on guests, containers and servers more than they compute, so on 2 cores the two lanes
# take about the time of the longer one. The second lane's output is printed once both are done.
# `scripts/test-integration.sh DIR`: JSON reports in DIR/integration.json and DIR/integration-2.json.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-}
log=$(mktemp /tmp/hangar-it-lane2-XXXXXX.log)
reports() { [ -z "$out" ] || echo "--reporter=default --reporter=json --outputFile.json=$out/$1.json"; }
# shellcheck disable=SC2046 # the reporter flags are words of their own
npx vitest run --project integration-2 $(reports integration-2) >"$log" 2>&1 &
lane2=$!
# shellcheck disable=SC2046
npx vitest run --project integration $(reports integration)
rc1=$?
wait "$lane2"
rc2=$?
printf '\n--- integration, second lane (integration-2) ---\n'
cat "$log"
rm -f "$log"
[ "$rc1" = 0 ] && [ "$rc2" = 0 ]
