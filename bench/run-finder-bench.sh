#!/usr/bin/env bash
# Email-finder benchmark: builds the server and bench/PeopleEnrich.FinderBench in Release and runs
# the bench, which starts a simulated mail world in-process (20 ordinary domains, 30 ms per SMTP
# reply, all on loopback), starts the server as a child process (fresh SQLite file in a temporary
# folder) once per Workers:Concurrency value, and times a cold and a warm batch of 100 people against
# the floor (one minimal SMTP session) and the naive way (one address per session). See bench/README.md.
#
#   bench/run-finder-bench.sh                          # Workers:Concurrency default (8) and 100
#   bench/run-finder-bench.sh --concurrency 8,32,100   # other options go to the bench tool
#   bench/run-finder-bench.sh --no-naive --keep-logs
#   bench/run-finder-bench.sh --generated --no-naive --concurrency default --realistic-patterns \
#       --generated-domains 30 --cold-batches 3    # issue 9's world: a cold run of 300 people at 30 domains
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"

refuse_options_set_by_script "$@" || exit 2

build_release_copies "$ROOT" PeopleEnrich.FinderBench
SERVER_DLL="$WORK/server/PeopleEnrich.dll"
BENCH_DLL="$WORK/bench/PeopleEnrich.FinderBench.dll"
BENCH_PID=""

# The bench stops each server itself; this is for when the bench itself dies or is interrupted.
cleanup() {
    local status=$?
    if [[ -n "$BENCH_PID" ]] && kill -0 "$BENCH_PID" 2>/dev/null; then
        kill -TERM "$BENCH_PID" 2>/dev/null || true
        sleep 2
        kill -KILL "$BENCH_PID" 2>/dev/null || true
    fi
    stop_leftover_servers "$PID_FILE"
    rm -rf "$WORK"
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Bounded: the tool gives up after --timeout (900 s by default); this is the backstop.
set +e
timeout --signal=TERM 1200 dotnet "$BENCH_DLL" --server-dll "$SERVER_DLL" --pid-file "$PID_FILE" "$@" &
BENCH_PID=$!
wait "$BENCH_PID"
STATUS=$?
set -e
BENCH_PID=""
describe_measured
exit "$STATUS"
