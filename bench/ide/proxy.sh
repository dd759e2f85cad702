#!/usr/bin/env bash
# What the front door adds to a Jupyter API call: GET /ide/{id}/api/contents through Web (session cookie checked,
# deployment looked up, request relayed) vs straight to the deployment's Jupyter, side by side with
# configurable-http-proxy (JupyterHub's proxy) in front of the same Jupyter. One connection, so the figures are per
# request, not queueing. Prints p50/p99 of each path, the overheads over direct and their ratio (bench/README.md).
#   bench/ide/proxy.sh [seconds per run (10)] [rounds (3)]
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-10}
rounds=${2:-3}
missing=()
[ -x /usr/bin/jupyter-notebook ] || missing+=(jupyter-notebook python3-ipykernel)
command -v configurable-http-proxy >/dev/null || missing+=(node-configurable-http-proxy)
command -v wrk >/dev/null || missing+=(wrk)
[ ${#missing[@]} -eq 0 ] || { echo "needed: sudo apt-get install ${missing[*]}" >&2; exit 1; }

source bench/common.sh
start_platform
sign_up read
jar="$WORK/cookies"
session=$(awk -F'\t' '/^#HttpOnly_/ { sub(/^#HttpOnly_/, "") } !/^#/ && NF == 7 { printf "%s%s=%s", sep, $6, $7; sep = "; " }' "$jar")
id=$(curl -s -b "$jar" -H 'Content-Type: application/json' \
  -d '{"module":"development","service":"jupyter","title":"proxy bench","password":"bench password 9"}' "$WEB/api/v1/deployments" \
  | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')
for _ in $(seq 1 600); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -b "$jar" "$WEB/ide/$id/api")" = 200 ] && break; sleep 0.2
done
private="$WORK/data/workspaces/$id/.platform"
token=$(sed -n "s/^c.NotebookApp.token = '\(.*\)'$/\1/p" "$private/jupyter-config/jupyter_notebook_config.py")
jport=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Port"])' "$private/process.json")
[ -n "$token" ] && [ -n "$jport" ] || { echo "deployment $id did not start"; tail -20 "$private/process.log"; exit 1; }

chp_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
chp_api=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# Debian's proxy finds its modules in /usr/share/nodejs, which a Node.js not from Debian does not search by itself.
NODE_PATH=/usr/share/nodejs CONFIGPROXY_AUTH_TOKEN=bench configurable-http-proxy --ip 127.0.0.1 --port "$chp_port" \
  --api-ip 127.0.0.1 --api-port "$chp_api" --default-target "http://127.0.0.1:$jport" --log-level warn >"$WORK/chp.log" 2>&1 &
CHP=$!
jpid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Pid"])' "$private/process.json")
# Workloads outlive the platform by design; this one's process group goes with the bench.
trap 'kill "$CHP" 2>/dev/null; kill -TERM -- "-$jpid" 2>/dev/null; kill -TERM "$APPHOST" 2>/dev/null; wait "$APPHOST" 2>/dev/null || true; rm -rf "$WORK"' EXIT

path="/ide/$id/api/contents"
front="$WEB$path"; direct="http://127.0.0.1:$jport$path"; chp="http://127.0.0.1:$chp_port$path"
for _ in $(seq 1 50); do [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: token $token" "$chp")" = 200 ] && break; sleep 0.1; done
for url in "$front" "$direct" "$chp"; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: token $token" -H "Cookie: $session" "$url")
  [ "$code" = 200 ] || { echo "GET $url answered $code"; exit 1; }
done

run() { # url -> "p50_ms p99_ms rps"
  wrk -t1 -c1 -d"${duration}s" --latency -H "Authorization: token $token" -H "Cookie: $session" "$1" | awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) } /^Requests\/sec/ { rps = $2 }
    /Non-2xx/ { bad = $NF } END { if (bad) { print "non-2xx responses: " bad > "/dev/stderr"; exit 1 } printf "%.3f %.3f %.0f\n", p50, p99, rps }'
}

for url in "$front" "$direct" "$chp"; do wrk -t1 -c1 -d3s -H "Authorization: token $token" -H "Cookie: $session" "$url" >/dev/null; done
printf "GET /ide/{id}/api/contents, 1 connection, %d s per run, %d alternating rounds\n" "$duration" "$rounds"
printf "%-6s %-24s %9s %9s %8s\n" round path "p50 ms" "p99 ms" "req/s"
declare -A results
for r in $(seq 1 "$rounds"); do
  for name in front direct chp; do
    case $name in front) url=$front; label="front door (Web)";; direct) url=$direct; label="direct to Jupyter";; chp) url=$chp; label="configurable-http-proxy";; esac
    read -r a b c < <(run "$url"); results[$name]+="$a $b"$'\n'
    printf "%-6s %-24s %9s %9s %8s\n" "$r" "$label" "$a" "$b" "$c"
  done
done
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
col() { printf '%s' "${results[$1]}" | awk -v c="$2" 'NF { print $c }' | median; }
f50=$(col front 1); f99=$(col front 2); d50=$(col direct 1); d99=$(col direct 2); c50=$(col chp 1); c99=$(col chp 2)
awk -v f50="$f50" -v f99="$f99" -v d50="$d50" -v d99="$d99" -v c50="$c50" -v c99="$c99" 'BEGIN {
  printf "\nmedian of rounds (ms)            p50       p99\n"
  printf "front door                   %9.3f %9.3f\n", f50, f99
  printf "direct                       %9.3f %9.3f\n", d50, d99
  printf "configurable-http-proxy      %9.3f %9.3f\n", c50, c99
  printf "overhead front door          %9.3f %9.3f\n", f50 - d50, f99 - d99
  printf "overhead chp                 %9.3f %9.3f\n", c50 - d50, c99 - d99
  r50 = (c50 - d50) > 0 ? (f50 - d50) / (c50 - d50) : 0; r99 = (c99 - d99) > 0 ? (f99 - d99) / (c99 - d99) : 0
  printf "ratio overhead front door / chp: p50 %.2f, p99 %.2f\n", r50, r99 }'
