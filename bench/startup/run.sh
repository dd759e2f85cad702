#!/usr/bin/env bash
# Startup benchmark: from launching the already-built AppHost to the sign-in page answering 200, for a first run
# (fresh data folder: initdb included) and later runs (same folder, median), side by side with its peer: the bare
# cost of what it orchestrates — initdb + pg_ctl start to ready, and one service (`dotnet Platform.Api.dll`) to /alive.
#
#   bench/startup/run.sh                 # Debug build; build first: dotnet build AppHost
#   CONFIG=Release RUNS=5 bench/startup/run.sh
#   PAGE=/health bench/startup/run.sh    # measure to another path
set -euo pipefail
shopt -s inherit_errexit

REPO=$(cd "$(dirname "$0")/../.." && pwd)
CONFIG=${CONFIG:-Debug}
RUNS=${RUNS:-3}
PAGE=${PAGE:-/Account/Login}
TIMEOUT_S=${TIMEOUT_S:-180}
APPHOST_DLL=$REPO/AppHost/bin/$CONFIG/net10.0/Platform.AppHost.dll
API_DLL=$REPO/Api/bin/$CONFIG/net10.0/Platform.Api.dll

for dll in "$APPHOST_DLL" "$API_DLL"; do
  [[ -f $dll ]] || { echo "missing $dll: run 'dotnet build AppHost -c $CONFIG' first" >&2; exit 1; }
done

# Under /tmp so that, when run as root, the postgres user can reach it.
WORK=$(mktemp -d /tmp/platform-bench-XXXXXX)
chmod 755 "$WORK"
echo "$PAGE" >"$WORK/page"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" || true; }

# PostgreSQL refuses to run as root: the peer runs as 'postgres' then, exactly as the AppHost does.
PG_BIN=$(pg_config --bindir 2>/dev/null || true)
[[ -x $PG_BIN/initdb ]] || PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
as_pg() { if [[ $(id -u) == 0 ]]; then setpriv --reuid=postgres --regid=postgres --init-groups "$@"; else "$@"; fi; }

# Launches the AppHost on DATA_DIR, prints the milliseconds until $PAGE answers 200, then stops it with SIGTERM.
apphost_run() {
  local data_dir=$1 port start code elapsed pid page
  page=$(cat "$WORK/page")
  port=$(free_port)
  start=$(now_ms)
  (cd "$REPO" && exec dotnet "$APPHOST_DLL" --data-dir "$data_dir" --port "$port" >>"$WORK/apphost.log" 2>&1) &
  pid=$!
  PIDS+=("$pid")
  while true; do
    code=$(status_of "http://127.0.0.1:$port$page")
    if [[ $code == 200 ]]; then break; fi
    # The Web pages may not exist yet: once Web is up and the page is 404, measure to /health instead, and say so.
    if [[ $code == 404 && $page != /health ]]; then
      echo "note: $page answered 404, so the AppHost runs are measured to /health" >&2
      page=/health
      echo "$page" >"$WORK/page"
      continue
    fi
    elapsed=$(( $(now_ms) - start ))
    if (( elapsed > TIMEOUT_S * 1000 )) || ! kill -0 "$pid" 2>/dev/null; then
      echo "AppHost did not serve $page within ${TIMEOUT_S}s; its log:" >&2; tail -40 "$WORK/apphost.log" >&2; exit 1
    fi
    sleep 0.05
  done
  elapsed=$(( $(now_ms) - start ))
  kill -TERM "$pid"; wait "$pid" || true
  echo "$elapsed"
}

# initdb (same options as the AppHost) + pg_ctl start -w (returns once it accepts connections).
# The peer's folder belongs to whoever runs PostgreSQL; its log lives there too.
PEER=$WORK/peer
peer_postgres_first() {
  local dir=$PEER/data port start elapsed
  port=$(free_port)
  mkdir -p "$PEER" && echo secret >"$PEER/pw"
  if [[ $(id -u) == 0 ]]; then chown -R postgres:postgres "$PEER"; fi
  start=$(now_ms)
  as_pg "$PG_BIN/initdb" -D "$dir" -U platform --pwfile="$PEER/pw" -A scram-sha-256 -E UTF8 --no-locale --no-instructions >/dev/null
  as_pg "$PG_BIN/pg_ctl" -D "$dir" -l "$PEER/pg.log" -w -t "$TIMEOUT_S" \
    -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=''" start >/dev/null
  elapsed=$(( $(now_ms) - start ))
  as_pg "$PG_BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
  echo "$elapsed"
}

# pg_ctl start on the existing peer cluster: the database part of a later run.
peer_postgres_again() {
  local dir=$PEER/data port start elapsed
  port=$(free_port)
  start=$(now_ms)
  as_pg "$PG_BIN/pg_ctl" -D "$dir" -l "$PEER/pg.log" -w -t "$TIMEOUT_S" \
    -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=''" start >/dev/null
  elapsed=$(( $(now_ms) - start ))
  as_pg "$PG_BIN/pg_ctl" -D "$dir" -m fast -w stop >/dev/null
  echo "$elapsed"
}

# One service alone, no database: `dotnet Platform.Api.dll` to /alive.
peer_api() {
  local port start pid elapsed
  port=$(free_port)
  start=$(now_ms)
  (cd "$REPO/Api" && ASPNETCORE_URLS="http://127.0.0.1:$port" ConnectionStrings__platformdb="Host=127.0.0.1;Port=1;Timeout=1" exec dotnet "$API_DLL" >>"$WORK/api.log" 2>&1) &
  pid=$!
  PIDS+=("$pid")
  until [[ $(status_of "http://127.0.0.1:$port/alive") == 200 ]]; do
    if (( $(now_ms) - start > TIMEOUT_S * 1000 )) || ! kill -0 "$pid" 2>/dev/null; then
      echo "Api alone did not answer /alive; its log:" >&2; tail -20 "$WORK/api.log" >&2; exit 1
    fi
    sleep 0.05
  done
  elapsed=$(( $(now_ms) - start ))
  kill -TERM "$pid"; wait "$pid" || true
  echo "$elapsed"
}

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2)}'; }

echo "Startup benchmark: $CONFIG build, $(nproc) cores, PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}'), $RUNS later runs"
data_dir=$WORK/data
first=$(apphost_run "$data_dir")
later_runs=()
for _ in $(seq "$RUNS"); do later_runs+=("$(apphost_run "$data_dir")"); done
later=$(median "${later_runs[@]}")

pg_first=$(peer_postgres_first)
pg_again_runs=(); api_runs=()
for _ in $(seq "$RUNS"); do pg_again_runs+=("$(peer_postgres_again)"); api_runs+=("$(peer_api)"); done
pg_again=$(median "${pg_again_runs[@]}")
api=$(median "${api_runs[@]}")

peer_first=$(( pg_first + api ))
peer_later=$(( pg_again + api ))
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

printf '\n%-58s %9s\n' "measurement (AppHost runs: to $(cat "$WORK/page"))" "ms"
printf '%-58s %9d\n' "AppHost first run (fresh data dir, creates the cluster)" "$first"
printf '%-58s %9d\n' "AppHost later runs (median of $RUNS: ${later_runs[*]})" "$later"
printf '%-58s %9d\n' "peer: initdb + pg_ctl start -w" "$pg_first"
printf '%-58s %9d\n' "peer: pg_ctl start -w on an existing cluster (median)" "$pg_again"
printf '%-58s %9d\n' "peer: dotnet Platform.Api.dll alone to /alive (median)" "$api"
printf '%-58s %9d\n' "peer, first run: initdb + start + one service" "$peer_first"
printf '%-58s %9d\n' "peer, later run: start + one service" "$peer_later"
printf '\nratio first run / peer: %s   (later runs / peer: %s)\n' "$(ratio "$first" "$peer_first")" "$(ratio "$later" "$peer_later")"
