# Sourced by run-chaos.sh and run-scaling-bench.sh: builds the server and bench/PeopleEnrich.ClusterBench in
# Release, starts a throw-away PostgreSQL (.ci/postgres.sh), runs the bench from copies of the builds and
# cleans up whatever is left (servers, PostgreSQL, temporary folder), however the bench ended.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=bench/common.sh
source "$ROOT/bench/common.sh"
# shellcheck source=.ci/postgres.sh
source "$ROOT/.ci/postgres.sh"

# run_cluster_bench DEFAULTS... -- ARGS...: each default option (with its value) is used unless ARGS give it.
run_cluster_bench() {
    local defaults=() given=() arg
    while [[ $# -gt 0 && "$1" != "--" ]]; do defaults+=("$1"); shift; done
    shift || true
    given=("$@")
    set --
    local i
    for ((i = 0; i < ${#defaults[@]}; i++)); do
        if [[ "${defaults[i]}" == --* ]] && [[ " ${given[*]} " != *" ${defaults[i]} "* && " ${given[*]} " != *" ${defaults[i]}="* ]]; then
            set -- "$@" "${defaults[i]}"
            [[ $((i + 1)) -lt ${#defaults[@]} && "${defaults[i + 1]}" != --* ]] && set -- "$@" "${defaults[i + 1]}"
        fi
    done
    set -- "$@" "${given[@]}"
    refuse_options_set_by_script "$@" || exit 2
    for arg in "$@"; do
        [[ "$arg" == --postgres* ]] && { echo "--postgres is set by this script" >&2; exit 2; }
    done

    build_release_copies "$ROOT" PeopleEnrich.ClusterBench
    BENCH_PID=""
    trap cluster_cleanup EXIT
    trap 'exit 130' INT TERM
    start_postgres

    # Bounded: each run gives up after --timeout; this is the backstop for the whole.
    set +e
    timeout --signal=TERM 3600 dotnet "$WORK/bench/PeopleEnrich.ClusterBench.dll" --server-dll "$WORK/server/PeopleEnrich.dll" --pid-file "$PID_FILE" \
        --postgres "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=postgres" "$@" &
    BENCH_PID=$!
    wait "$BENCH_PID"
    STATUS=$?
    set -e
    BENCH_PID=""
    describe_measured
    exit "$STATUS"
}

cluster_cleanup() {
    local status=$?
    if [[ -n "${BENCH_PID:-}" ]] && kill -0 "$BENCH_PID" 2>/dev/null; then
        kill -TERM "$BENCH_PID" 2>/dev/null || true
        sleep 2
        kill -KILL "$BENCH_PID" 2>/dev/null || true
    fi
    stop_leftover_servers "$PID_FILE"
    stop_postgres
    rm -rf "$WORK"
    exit $status
}
