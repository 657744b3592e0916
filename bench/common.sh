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
