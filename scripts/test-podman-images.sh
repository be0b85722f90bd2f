#!/usr/bin/env bash
# podman images a test run made, removed when it ends: the snapshots' commits (localhost/hangar-snap-*), imported
# archives and machines' images (localhost/hangar-*) and what was pulled from the test registries (127.0.0.1:PORT/...).
# They live in podman's storage, not in the tests' data dirs: one full run left 108 images (15 GB) behind.
#   scripts/test-podman-images.sh list         the IDs of such images now (record them before the run)
#   scripts/test-podman-images.sh clean FILE   remove those not listed in FILE (what the run made)
# An image a Hangar outside the tests makes on this host while they run has the same names and would go too.
set -uo pipefail
ours() {
  command -v podman >/dev/null || return 0
  podman images --format '{{.ID}} {{.Repository}}:{{.Tag}}' 2>/dev/null | awk '$2 ~ /^(localhost\/hangar-|127\.0\.0\.1:)/' | sort -u
}
case "${1:-}" in
  list) ours | awk '{print $1}' | sort -u ;;
  clean)
    before=${2:?a file listing the IDs from before the run}
    # By name (an ID with two names is refused without --force, which would also remove containers using it), then the
    # untagged ones by ID. Never forced: an image a container still uses stays.
    ours | awk 'FILENAME == ARGV[1] {seen[$1]=1; next} !($1 in seen)' "$before" - >"$before.new"
    n=$(awk '{print $1}' "$before.new" | sort -u | wc -l)
    awk '$2 !~ /:<none>$/ {print $2}' "$before.new" | xargs -r podman rmi -i >/dev/null 2>&1
    awk '$2 ~ /:<none>$/ {print $1}' "$before.new" | sort -u | xargs -r podman rmi -i >/dev/null 2>&1
    left=$(ours | awk 'FILENAME == ARGV[1] {seen[$1]=1; next} !($1 in seen)' "$before" - | awk '{print $1}' | sort -u | wc -l)
    rm -f "$before.new"
    echo "podman images this run made: $n, removed $((n - left))${left:+, $left still used}" | sed 's/, 0 still used//'
    ;;
  *) echo "usage: $0 list | clean FILE" >&2; exit 2 ;;
esac
