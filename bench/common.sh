# Sourced by the bench scripts: what both do around their bench tool.

# The tool's options that the script gives itself: refused on the script's command line.
refuse_options_set_by_script() {
    local arg
    for arg in "$@"; do
        case "$arg" in
            --server-dll|--server-dll=*|--pid-file|--pid-file=*)
                echo "$arg is set by this script" >&2
                return 2
                ;;
        esac
    done
}

# Each bench tool stops the servers it starts; this is the backstop for a tool that was killed, or
# died, before it could: every server PID it wrote to the PID file that still runs PeopleEnrich.dll
# (a PID may have been reused meanwhile) gets SIGTERM, then SIGKILL.
stop_leftover_servers() {
    local pid_file=$1 pid
    [[ -f "$pid_file" ]] || return 0
    while read -r pid; do
        [[ -n "$pid" ]] || continue
        if [[ -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'PeopleEnrich\.dll'; then
            kill -TERM "$pid" 2>/dev/null || true
            sleep 1
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done <"$pid_file"
}

# describe_source: sets COMMIT, DIRTY (uncommitted changes under src/) and SRC_STATE (a fingerprint of src/'s
# differences from the commit, changed and new files, so that two runs of the same uncommitted source can be
# told from two runs of different source; "clean" when there are none) and prints them with the date and cores.
describe_source() {
    local root=$1
    COMMIT="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
    DIRTY="$(git -C "$root" status --porcelain -- src 2>/dev/null | wc -l | tr -d ' ')"
    SRC_STATE="$(cd "$root" && { git diff HEAD -- src; git ls-files --others --exclude-standard -z -- src | xargs -0 -r cat; } 2>/dev/null | sha256sum | cut -c1-12)"
    [[ "$DIRTY" == 0 ]] && SRC_STATE="clean"
    echo "== server source: commit $COMMIT, $DIRTY uncommitted change(s) under src/ (state $SRC_STATE); $(date -u +%Y-%m-%dT%H:%MZ); $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"
}

# describe_measured: the closing line, naming the source measured (set by describe_source).
describe_measured() {
    echo "== measured: server at commit $COMMIT, $DIRTY uncommitted change(s) under src/ (state $SRC_STATE), built at the start of this run; load average at end $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo n/a)"
}

# build_release_copies ROOT TOOL: builds the server and the bench tool bench/TOOL in Release, says which source was
# built (describe_source), and copies both into a new folder WORK (WORK/server, WORK/bench, and PID_FILE for the
# servers the tool starts): runs use the copies, so that a rebuild of the tree meanwhile cannot change what is measured.
build_release_copies() {
    local root=$1 tool=$2
    echo "== building (Release)"
    dotnet build "$root/src/PeopleEnrich/PeopleEnrich.csproj" -c Release -nologo -v quiet
    dotnet build "$root/bench/$tool/$tool.csproj" -c Release -nologo -v quiet
    describe_source "$root"
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/pe-$tool.XXXXXX")"
    PID_FILE="$WORK/server.pids"
    cp -r "$root/src/PeopleEnrich/bin/Release/net10.0" "$WORK/server"
    cp -r "$root/bench/$tool/bin/Release/net10.0" "$WORK/bench"
}
