#!/usr/bin/env bash
# podman images a test run made, removed when it ends: the snapshots' commits (localhost/hangar-snap-*), imported
# archives and machines' images (localhost/hangar-*) and what was pulled from the test registries (127.0.0.1:PORT/...).
# They live in podman's storage, not in the tests' data dirs: a full run makes about 10, and 108 (15 GB) had piled up here.
#   scripts/test-podman-images.sh list         the IDs of such images now (record them before the run)
#   scripts/test-podman-images.sh clean FILE   remove those not listed in FILE (what the run made)
# An image a Hangar outside the tests makes on this host while they run has the same names and would go too.
set -uo pipefail
# Fails when podman does not answer: an empty list would read as "none before", and every such image would go.
ours() {
  local all
  all=$(podman images --format '{{.ID}} {{.Repository}}:{{.Tag}}') || return 1
  awk '$2 ~ /^(localhost\/hangar-|127\.0\.0\.1:)/' <<<"$all" | sort -u
}
case "${1:-}" in
  list)
    command -v podman >/dev/null || exit 0
    mine=$(ours) || { echo "podman images failed: the images this run makes are kept" >&2; exit 1; }
    [ -z "$mine" ] || awk '{print $1}' <<<"$mine" | sort -u
    ;;
  clean)
    before=${2:?a file listing the IDs from before the run}
    command -v podman >/dev/null || exit 0
    # By name (an ID with two names is refused without --force, which would also remove containers using it), then the
    # untagged ones by ID. Never forced: an image a container still uses stays.
    now=$(ours) || { echo "podman images failed: nothing removed" >&2; exit 1; }
    : >"$before.new"
    [ -z "$now" ] || awk 'FILENAME == ARGV[1] {seen[$1]=1; next} !($1 in seen)' "$before" - <<<"$now" >"$before.new"
    n=$(awk '{print $1}' "$before.new" | sort -u | wc -l)
    awk '$2 !~ /:<none>$/ {print $2}' "$before.new" | xargs -r podman rmi -i >/dev/null 2>&1
    awk '$2 ~ /:<none>$/ {print $1}' "$before.new" | sort -u | xargs -r podman rmi -i >/dev/null 2>&1
    left=$(ours | awk 'FILENAME == ARGV[1] {seen[$1]=1; next} !($1 in seen)' "$before" - | awk '{print $1}' | sort -u | wc -l)
    rm -f "$before.new"
    echo "podman images this run made: $n, removed $((n - left))${left:+, $left still used}" | sed 's/, 0 still used//'
    ;;
  *) echo "usage: $0 list | clean FILE" >&2; exit 2 ;;
esac
