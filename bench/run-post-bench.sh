#!/usr/bin/env bash
# Benchmark of POST /api/v2/people/enrich: builds the server and bench/PeopleEnrich.Bench in
# Release and runs the bench tool, which starts the server (--server-dll) on a free loopback port with
# a fresh SQLite database in a temporary folder, drives the load against it and stops the server
# again. See bench/README.md.
#
#   bench/run-post-bench.sh                                   # SQLite, default load
#   bench/run-post-bench.sh --concurrency 32 --duration 30    # other options go to the bench tool
#   bench/run-post-bench.sh --postgres "Host=127.0.0.1;Username=pe;Password=…;Database=pe_bench"
#
# With --postgres the database should be empty (the 'default' account and the bench key are only
# created on first start); every run leaves its rows behind, so use a throw-away database.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"

refuse_options_set_by_script "$@" || exit 2
for arg in "$@"; do
    case "$arg" in
        --url|--url=*|--key|--key=*|--server-pid|--server-pid=*)
            echo "$arg: this script starts a server of its own; for yours, run the bench tool alone (bench/README.md)" >&2
            exit 2
            ;;
    esac
done

echo "== building (Release)"
dotnet build "$ROOT/src/PeopleEnrich/PeopleEnrich.csproj" -c Release -nologo -v quiet
dotnet build "$ROOT/bench/PeopleEnrich.Bench/PeopleEnrich.Bench.csproj" -c Release -nologo -v quiet
SERVER_DLL="$ROOT/src/PeopleEnrich/bin/Release/net10.0/PeopleEnrich.dll"
BENCH_DLL="$ROOT/bench/PeopleEnrich.Bench/bin/Release/net10.0/PeopleEnrich.Bench.dll"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/pe-bench.XXXXXX")"
PID_FILE="$WORK/server.pids"

# The tool stops its server itself; this is for when the tool is killed or dies first.
cleanup() {
    local status=$?
    stop_leftover_servers "$PID_FILE"
    rm -rf "$WORK"
    exit $status
}
trap cleanup EXIT

set +e
dotnet "$BENCH_DLL" --server-dll "$SERVER_DLL" --pid-file "$PID_FILE" "$@"
STATUS=$?
set -e
exit "$STATUS"
