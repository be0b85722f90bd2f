#!/usr/bin/env bash
# Every test tier, in order, each run even when an earlier one failed, then one summary line:
# "N passed, N failed" (vitest and Playwright test counts; typecheck and lint count as one each).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=test-results
rm -rf "$OUT" && mkdir -p "$OUT"
failed_tiers=()
# The podman images already here: the ones the run makes go when it ends (scripts/test-podman-images.sh).
bash scripts/test-podman-images.sh list >"$OUT/podman-images-before.txt" || rm -f "$OUT/podman-images-before.txt"

tier() {
  local name=$1; shift
  printf '\n\033[1m--- %s ---\033[0m\n' "$name"
  local t0=$SECONDS
  if "$@"; then echo "--- $name: ok ($((SECONDS - t0)) s)"; else echo "--- $name: FAILED ($((SECONDS - t0)) s)"; failed_tiers+=("$name"); fi
}

# The static tiers only read the sources, and the unit tier starts no server: all four run side by side (the static
# three took 51 s together against 64 s one after another on a 2-core host at load 5; unit 74-79 s alone), each
# one's output kept and printed in order once all are done.
static_tier() {
  local name=$1; shift
  local t0=$SECONDS
  "$@" >"$OUT/$name.log" 2>&1
  echo "$? $((SECONDS - t0))" >"$OUT/$name.rc"
}
static_tier typecheck npx tsc --noEmit -p tsconfig.json &
# Lint includes the layer arrows (eslint.config.js), the import-cycle check, the OpenAPI document (Redocly) and the SDK's
# generated types (sdk/src/openapi.ts regenerated and compared: a route change fails until `npm run sdk:generate`).
static_tier lint sh -c 'npx eslint --max-warnings 0 . && node scripts/check-cycles.mjs && bash scripts/lint-openapi.sh && bash scripts/gen-sdk.sh --check' &
static_tier format sh -c 'npx prettier --check --log-level warn . && node scripts/check-line-length.mjs' &
static_tier unit npx vitest run --project unit --reporter=default --reporter=json --outputFile.json="$OUT/unit.json" &
wait
for name in typecheck lint format unit; do
  printf '\n\033[1m--- %s ---\033[0m\n' "$name"
  cat "$OUT/$name.log"
  read -r rc secs <"$OUT/$name.rc" || { rc=1 secs=?; }
  if [ "$rc" = 0 ]; then echo "--- $name: ok ($secs s, beside the other tiers above)"; else echo "--- $name: FAILED ($secs s)"; failed_tiers+=("$name"); fi
done
tier integration bash scripts/test-integration.sh "$OUT"
# The podman images the integration tier made go while e2e runs (e2e uses none; removing 108 took 38 s).
clean_pid=
[ -n "${HANGAR_KEEP_TEST_DATA:-}" ] || [ ! -f "$OUT/podman-images-before.txt" ] || { bash scripts/test-podman-images.sh clean "$OUT/podman-images-before.txt" >"$OUT/podman-clean.log" 2>&1 & clean_pid=$!; }
# The e2e server's data dir is made here so it can be removed after (with its mounts), pass or fail.
E2E_DATA=$(mktemp -d /tmp/hangar-e2e-XXXXXX)
tier e2e env E2E_JSON="$OUT/e2e.json" E2E_DATA="$E2E_DATA" npx playwright test
[ -n "${HANGAR_KEEP_TEST_DATA:-}" ] || node scripts/remove-tree.mjs "$E2E_DATA"
[ -z "$clean_pid" ] || { wait "$clean_pid"; cat "$OUT/podman-clean.log"; }

node scripts/summarize-tests.mjs "$OUT" "${failed_tiers[@]}"
