#!/usr/bin/env bash
# log_metric to a subscribed SignalR client at 10,000 points/s in all: RUNS Python processes (the SDK, `at` taken inside
# log_metric) each logging RATE points/s for SECONDS, and SUBSCRIBERS boards (Microsoft's JavaScript SignalR client under
# Node 20, WebSockets, an access key) spread over the runs, against a platform started with bench/common.sh. Prints p50,
# p99, max and the points lost (must be 0). Then the peer: Prometheus (Debian's 2.42, installed here if missing; never in
# CI) scraping a gauge a tiny exporter changes 500 times/s, every 1 s, with 1 s query polls; and the ratio.
#   bench/metrics/latency/run.sh            (RUNS=20 RATE=500 SECONDS=30 SUBSCRIBERS=50 PEER=1)
set -euo pipefail
cd "$(dirname "$0")/../../.."
RUNS=${RUNS:-20} RATE=${RATE:-500} SECONDS_=${SECONDS_:-30} SUBSCRIBERS=${SUBSCRIBERS:-50} PEER=${PEER:-1}
here=bench/metrics/latency
[[ -d Web/node_modules/@microsoft/signalr ]] || (cd Web && npm ci --no-audit --no-fund >/dev/null)
source bench/common.sh
start_platform
sign_up full
runs="$WORK/latency"
mkdir -p "$runs"

export PYTHONPATH="$PWD/Notebook/sdk" PLATFORM_API_URL="$WEB" PLATFORM_API_KEY="$KEY"
if [[ "${DIRECT:-0}" == "1" ]]; then
  api_pid=$(pgrep -f 'Platform.Api.dll' | head -1)
  PLATFORM_API_URL="http://$(ss -ltnp | grep "pid=$api_pid," | awk '{print $4}' | head -1)"
  echo "producers post to the Api directly: $PLATFORM_API_URL"
fi
producers=()
for i in $(seq 0 $((RUNS - 1))); do
  ${PRODUCER_NICE:+nice -n "$PRODUCER_NICE"} python3 "$here/producer.py" "$i" "$RATE" "$SECONDS_" "$runs" >"$runs/producer-$i.log" 2>&1 &
  producers+=($!)
done
for _ in $(seq 1 600); do [[ $(ls "$runs" | grep -c '^run-[0-9]*$') -eq $RUNS ]] && break; sleep 0.1; done
node "$here/subscribers.js" "$WEB" "$KEY" "$runs" "$SUBSCRIBERS" "$((RATE * SECONDS_))" >"$runs/subscribers.out" 2>"$runs/subscribers.err" &
subscribers=$!
for _ in $(seq 1 600); do [[ -e "$runs/subscribed" ]] && break; sleep 0.1; done
[[ -e "$runs/subscribed" ]] || { echo "subscribers did not start:"; cat "$runs/subscribers.err"; exit 1; }
echo "runs $RUNS x $RATE points/s for $SECONDS_ s = $((RUNS * RATE)) points/s; $SUBSCRIBERS subscribers"
touch "$runs/go"
failed=0
for p in "${producers[@]}"; do wait "$p" || failed=1; done
touch "$runs/done"
wait "$subscribers" || failed=1
cat "$runs/subscribers.out"
[[ -s "$runs/subscribers.err" ]] && { echo "subscribers said:"; head -20 "$runs/subscribers.err"; }
grep -h "producer" "$runs"/producer-*.log | grep -v "flushed=True" || true
python3 "$here/sdk_stats.py" "$runs"/producer-*.log || true
# The Api's own split (MetricsLive logs it every 10 s): points' age when committed, and when handed to the connections.
grep -rh --include='*.log' "Live metrics lag" "$WORK" 2>/dev/null | sed 's/.*Live metrics lag since log_metric: /api_lag /' | tail -3 || true
platform_p50=$(awk '/_p50_ms/ {print $2}' "$runs/subscribers.out")
platform_p99=$(awk '/_p99_ms/ {print $2}' "$runs/subscribers.out")

if [[ "$PEER" == "1" ]]; then
  command -v prometheus >/dev/null || { apt-get install -y --no-install-recommends prometheus >/dev/null || sudo apt-get install -y --no-install-recommends prometheus >/dev/null; }
  mkdir -p "$WORK/peer"
  python3 "$here/prometheus_peer.py" "$WORK/peer" "${PEER_SECONDS:-60}" | tee "$WORK/peer.out"
  prom_p50=$(awk '/_p50_ms/ {print $2}' "$WORK/peer.out")
  prom_p99=$(awk '/_p99_ms/ {print $2}' "$WORK/peer.out")
  python3 -c "print(f'ratio_p50 {float($prom_p50) / float($platform_p50):.0f}x  ratio_p99 {float($prom_p99) / float($platform_p99):.0f}x (Prometheus / platform)')"
fi
exit $failed
