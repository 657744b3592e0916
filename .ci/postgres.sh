# A throw-away PostgreSQL server on a free loopback port (Debian's PostgreSQL 15 binaries; installed
# with apt-get when missing). Sets PG_PORT and PG_DATA. Used by .ci/run and bench/.
find_pg_bin() {
  for dir in /usr/lib/postgresql/*/bin; do
    [[ -x "$dir/pg_ctl" ]] && { echo "$dir"; return; }
  done
  command -v pg_ctl >/dev/null && dirname "$(command -v pg_ctl)"
}

start_postgres() {
  PG_BIN=$(find_pg_bin || true)
  if [[ -z "${PG_BIN}" ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    PG_BIN=$(find_pg_bin)
  fi
  PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  PG_DATA=$(mktemp -d /tmp/peopleenrich-pg-XXXXXX)
  local as=()
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$PG_DATA"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$PG_BIN/initdb" -D "$PG_DATA/data" -U postgres -A trust --no-sync >/dev/null
  "${as[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA/data" -l "$PG_DATA/server.log" -w \
    -o "-p $PG_PORT -k $PG_DATA -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
  PG_AS=("${as[@]}")
  echo "PostgreSQL on 127.0.0.1:$PG_PORT ($PG_DATA)"
}

stop_postgres() {
  if [[ -n "${PG_DATA:-}" ]]; then
    "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_DATA/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DATA"
  fi
}
