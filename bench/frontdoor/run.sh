#!/usr/bin/env bash
# The front door's cost: GET /api/v1/me with an access key through Web (the front door) vs straight to Api,
# at 32 concurrent connections, side by side on the same running platform. Prints requests/s, p50 and p99 of both
# and the ratios. Needs wrk (apt-get install wrk) and curl.
#   bench/frontdoor/run.sh [seconds per run (15)] [rounds (3)]
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-15}
rounds=${2:-3}
connections=32
command -v wrk >/dev/null || { echo "wrk is needed: sudo apt-get install wrk" >&2; exit 1; }

source bench/common.sh
start_platform
sign_up read
web=$WEB; key=$KEY
api=$(grep -oE '\[api\] .*Now listening on: http://127\.0\.0\.1:[0-9]+' "$LOG" | grep -oE 'http://127\.0\.0\.1:[0-9]+' | head -1)
[ -n "$api" ] || { echo "Api address not found in the log"; exit 1; }
for url in "$web" "$api"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $key" "$url/api/v1/me")
  [ "$code" = 200 ] || { echo "GET $url/api/v1/me answered $code"; exit 1; }
done

run() { # url -> "rps p50_ms p99_ms"
  wrk -t2 -c"$connections" -d"${duration}s" --latency -H "Authorization: Bearer $key" "$1/api/v1/me" | awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    /Non-2xx/ { bad = $NF } END { if (bad) { print "non-2xx responses: " bad > "/dev/stderr"; exit 1 } printf "%.0f %.2f %.2f\n", rps, p50, p99 }'
}

wrk -t2 -c"$connections" -d5s "$web/api/v1/me" -H "Authorization: Bearer $key" >/dev/null   # warm both paths
wrk -t2 -c"$connections" -d5s "$api/api/v1/me" -H "Authorization: Bearer $key" >/dev/null
printf "GET /api/v1/me, %d connections, %d s per run, %d alternating rounds\n" "$connections" "$duration" "$rounds"
printf "%-8s %-12s %10s %9s %9s\n" round path "req/s" "p50 ms" "p99 ms"
fd=(); direct=()
for r in $(seq 1 "$rounds"); do
  read -r a b c < <(run "$web"); fd+=("$a $b $c"); printf "%-8s %-12s %10s %9s %9s\n" "$r" "front door" "$a" "$b" "$c"
  read -r a b c < <(run "$api"); direct+=("$a $b $c"); printf "%-8s %-12s %10s %9s %9s\n" "$r" "direct" "$a" "$b" "$c"
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
col() { printf '%s\n' "$@" | awk -v c="$COL" '{ print $c }' | median; }
COL=1; fr=$(col "${fd[@]}"); dr=$(col "${direct[@]}")
COL=2; f50=$(col "${fd[@]}"); d50=$(col "${direct[@]}")
COL=3; f99=$(col "${fd[@]}"); d99=$(col "${direct[@]}")
printf "\nmedian      %-12s %10s %9s %9s\n" "front door" "$fr" "$f50" "$f99"
printf "median      %-12s %10s %9s %9s\n" "direct" "$dr" "$d50" "$d99"
awk -v fr="$fr" -v dr="$dr" -v f50="$f50" -v d50="$d50" -v f99="$f99" -v d99="$d99" 'BEGIN {
  printf "ratio front door / direct: throughput %.2f, p50 %.2f, p99 %.2f\n", fr / dr, f50 / d50, f99 / d99 }'
