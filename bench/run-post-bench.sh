#!/usr/bin/env bash
# Benchmark of POST /api/v2/people/enrich: builds the server and bench/PeopleEnrich.Bench in
# Release, starts the server on a free loopback port with a fresh SQLite database in a temporary
# folder, runs the load generator against it and stops the server again. See bench/README.md.
#
#   bench/run-post-bench.sh                                   # SQLite, default load
#   bench/run-post-bench.sh --concurrency 32 --duration 30    # other options go to the bench tool
#   bench/run-post-bench.sh --postgres "Host=127.0.0.1;Username=pe;Password=…;Database=pe_bench"
#
# With --postgres the database should be empty (the 'default' account and the bench key are only
# created on first start); every run leaves its rows behind, so use a throw-away database.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KEY="pe_bench_key_0123456789abcdef"
CREDITS=1000000000
POSTGRES=""
BENCH_ARGS=()

while [[ $# -gt 0 ]]; do
    case "$1" in
        --postgres)
            [[ $# -ge 2 ]] || { echo "--postgres needs a connection string" >&2; exit 2; }
            POSTGRES="$2"
            shift 2
            ;;
        --postgres=*)
            POSTGRES="${1#--postgres=}"
            shift
            ;;
        --url|--url=*|--key|--key=*|--server-pid|--server-pid=*)
            echo "$1 is set by this script" >&2
            exit 2
            ;;
        *)
            BENCH_ARGS+=("$1")
            shift
            ;;
    esac
done

echo "== building (Release)"
dotnet build "$ROOT/src/PeopleEnrich/PeopleEnrich.csproj" -c Release -nologo -v quiet
dotnet build "$ROOT/bench/PeopleEnrich.Bench/PeopleEnrich.Bench.csproj" -c Release -nologo -v quiet
SERVER_DLL="$ROOT/src/PeopleEnrich/bin/Release/net10.0/PeopleEnrich.dll"
BENCH_DLL="$ROOT/bench/PeopleEnrich.Bench/bin/Release/net10.0/PeopleEnrich.Bench.dll"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/pe-bench.XXXXXX")"
SERVER_PID=""
LOG="$WORK/server.log"

cleanup() {
    local status=$?
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 150); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ $status -ne 0 && -f "$LOG" ]]; then
        echo "== last lines of the server log" >&2
        tail -n 40 "$LOG" >&2 || true
    fi
    rm -rf "$WORK"
    exit $status
}
trap cleanup EXIT

if [[ -n "$POSTGRES" ]]; then
    DB_VAR="ConnectionStrings__Postgres"
    DB_VALUE="$POSTGRES"
    echo "== database: PostgreSQL (from --postgres)"
else
    DB_VAR="ConnectionStrings__Sqlite"
    DB_VALUE="Data Source=$WORK/pe.db"
    echo "== database: SQLite $WORK/pe.db (fresh)"
fi

# RateLimit__PermitsPerSecond: the default limit is 10 requests/s per key, which would cap the
# benchmark at 1,000 items/s (10 x 100 people) and measure the limiter rather than the server.
# Port 0: the server picks a free loopback port and logs it ("Now listening on: …"); the
# Smtp__Enabled=false and Dns__Servers on a closed loopback port: the email finder is off, since this
# measures acceptance, and a benchmark never sends DNS or SMTP traffic off the machine.
# Lifetime log level is set here so that this line is printed whatever appsettings.json says.
echo "== starting the server"
env "$DB_VAR=$DB_VALUE" \
    Bootstrap__ApiKey="$KEY" \
    Bootstrap__Credits="$CREDITS" \
    RateLimit__PermitsPerSecond=100000 \
    Smtp__Enabled=false Dns__Servers__0=127.0.0.1:9 \
    ASPNETCORE_ENVIRONMENT=Production \
    Logging__LogLevel__Microsoft.Hosting.Lifetime=Information \
    dotnet "$SERVER_DLL" --urls "http://127.0.0.1:0" >"$LOG" 2>&1 &
SERVER_PID=$!

URL=""
for _ in $(seq 1 600); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        echo "the server exited during start-up" >&2
        exit 1
    fi
    URL="$(grep -o 'Now listening on: http://127\.0\.0\.1:[0-9]*' "$LOG" | head -n 1 | sed 's/^Now listening on: //' || true)"
    if [[ -n "$URL" ]] && curl -fsS -o /dev/null --max-time 2 "$URL/readyz"; then
        break
    fi
    URL=""
    sleep 0.1
done
if [[ -z "$URL" ]]; then
    echo "the server did not become ready within 60 s" >&2
    exit 1
fi
echo "== server PID $SERVER_PID ready at $URL"

set +e
dotnet "$BENCH_DLL" --url "$URL" --key "$KEY" --server-pid "$SERVER_PID" ${BENCH_ARGS[@]+"${BENCH_ARGS[@]}"}
BENCH_STATUS=$?
set -e

# What the workers made of it meanwhile: items still PROCESSING are the backlog left behind.
if [[ -z "$POSTGRES" ]] && command -v sqlite3 >/dev/null 2>&1; then
    echo "== items by status right after the run (SQLite)"
    sqlite3 -readonly -cmd ".timeout 10000" "$WORK/pe.db" "SELECT status, COUNT(*) FROM items GROUP BY status;" 2>&1 | sed 's/^/   /' || true
fi

echo "== stopping the server"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" || true
SERVER_PID=""
exit "$BENCH_STATUS"
