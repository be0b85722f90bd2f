#!/usr/bin/env bash
# Lint the API's OpenAPI document, as the server code makes it, with Redocly's recommended rules
# (redocly.yaml): errors fail. Offline: no telemetry, no update check, no remote rulesets.
set -euo pipefail
cd "$(dirname "$0")/.."
doc=$(mktemp -t hangar-openapi-XXXXXX.json)
trap 'rm -f "$doc"' EXIT
npx tsx scripts/openapi-doc.ts "$doc"
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true REDOCLY_SUPPRESS_NOTIFICATIONS=true \
  npx redocly lint --config redocly.yaml --format stylish "$doc"
