#!/usr/bin/env bash
# Sustained ingestion into PostgreSQL with fsync on: bench/metrics/ingest/IngestBench drives MetricIngestion (the code
# behind POST /api/v1/runs/{id}/points, minus HTTP and JSON) with WRITERS (8) concurrent writers × batches of BATCH
# (1,000) points for DURATION_S (15) s, then the peers (per-row INSERT, EF Core AddRange) for PEER_SECONDS.
# It starts its own PostgreSQL cluster with the server's defaults (fsync=on, synchronous_commit=on, full_page_writes=on)
# in a temp folder, or uses PG (an Npgsql connection string) when set. Run from the repository root.
set -euo pipefail
dotnet build bench/metrics/ingest/IngestBench -c Release -nologo -v q >/dev/null
if [[ -z "${PG:-}" ]]; then
  BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  WORK=$(mktemp -d /tmp/platform-ingestbench-XXXXXX)
  chmod 755 "$WORK"
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  AS=()
  if [[ $(id -u) == 0 ]]; then chown postgres:postgres "$WORK"; AS=(runuser -u postgres --); fi
  "${AS[@]}" "$BIN/initdb" -D "$WORK/data" -A trust -U postgres -E UTF8 >/dev/null
  "${AS[@]}" "$BIN/pg_ctl" -D "$WORK/data" -l "$WORK/pg.log" -w \
    -o "-p $PORT -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=on -c synchronous_commit=on -c full_page_writes=on" start >/dev/null
  trap '"${AS[@]}" "$BIN/pg_ctl" -D "$WORK/data" -m fast stop >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
  PG="Host=127.0.0.1;Port=$PORT;Username=postgres;Database=postgres"
fi
echo "== $(nproc) cores; ${WRITERS:-8} writers x batches of ${BATCH:-1000} points, ${DURATION_S:-15} s"
PG="$PG" dotnet bench/metrics/ingest/IngestBench/bin/Release/net10.0/Platform.IngestBench.dll
