#!/usr/bin/env bash
# Opening a 1,000,000-point series on the board: time from navigation to the first paint of the chart, and to the
# first interactive (plotly) chart, in headless Chromium (board.js marks them one animation frame after the first chart
# is on screen, a canvas preview drawn while plotly.js compiles or plotly's own, and after plotly's first draw:
# performance marks "board-first-paint" and "board-interactive"). The series is ingested through the REST API in batches of 10,000 points. Peer, side by side:
# the same page with ?raw=1, which loads every raw point (the export JSON) and hands them to plotly (WebGL where
# Chromium has it), as a board without rollups would. Prints every run, the medians and the ratio raw / board.
#   bench/metrics/first-paint/run.sh [runs (5)] [points (1000000)]     RAW_RUNS=3: runs of the peer
set -euo pipefail
cd "$(dirname "$0")/../../.."
runs=${1:-5}
points=${2:-1000000}
[ -x /usr/bin/chromium ] || { echo "chromium is needed: sudo apt-get install chromium" >&2; exit 1; }

source bench/common.sh
start_platform
sign_up full

run=$(curl -s -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d '{"name":"first-paint"}' "$WEB/api/v1/runs" \
  | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')
started=$(date +%s.%N)
python3 - "$WEB" "$KEY" "$run" "$points" <<'PY'
import json, math, sys, time, urllib.request
web, key, run, total = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
now = time.time() - total / 1000.0
for start in range(0, total, 10000):
    batch = [{"name": "loss", "step": s, "value": 2.0 * math.exp(-s / 200000.0) + 0.1 * math.sin(s / 500.0), "at": now + s / 1000.0}
             for s in range(start, min(total, start + 10000))]
    request = urllib.request.Request(f"{web}/api/v1/runs/{run}/points", data=json.dumps({"points": batch}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(request, timeout=120) as response:
        body = json.load(response)
        assert body["accepted"] + body["duplicates"] == len(batch), body
PY
ended=$(date +%s.%N)
echo "ingested $points points into run $run in $(python3 -c "print(round($ended - $started, 1))") s (batches of 10,000)"

measure() { # label, url suffix, timeout ms, runs: prints "median first paint, median interactive"
  local label=$1 suffix=$2 limit=$3 n=$4 out paint interactive plotted detail values=() ready=()
  for i in $(seq 1 "$n"); do
    out=$(node bench/metrics/first-paint/firstpaint.js "$WEB/Runs/$run$suffix" "$WORK/cookies" "$limit" || true)
    read -r paint interactive plotted detail <<<"$out"
    echo "  $label run $i: first paint ${paint:-?} ms, interactive ${interactive:-?} ms, plotted points ${plotted:-?} (${detail:-})" >&2
    values+=("${paint:-x}")
    ready+=("${interactive:-x}")
  done
  local median='import sys, statistics; v=[float(x) for x in sys.stdin.read().split() if x.replace(".","",1).isdigit()]; print(round(statistics.median(v)) if v else "n/a")'
  echo "$(printf '%s\n' "${values[@]}" | python3 -c "$median") $(printf '%s\n' "${ready[@]}" | python3 -c "$median")"
}
echo "load average before measuring: $(cut -d" " -f1-3 /proc/loadavg) on $(nproc) cores" >&2
echo "board (rollups, maxPoints=2000):" >&2
read -r board board_ready <<<"$(measure board "" 30000 "$runs")"
echo "board, first visit in a running browser (a new browser context: empty cache):" >&2
read -r first first_ready <<<"$(FP_WARM_BROWSER=1 measure first-visit "" 30000 "$runs")"
echo "board, returning visitor (third visit in one profile: plotly.js cached and its code cache warm):" >&2
read -r warm warm_ready <<<"$(FP_VISITS=3 measure returning "" 30000 3)"
echo "peer (?raw=1, all $points raw points):" >&2
read -r raw raw_ready <<<"$(measure raw "?raw=1" 180000 "${RAW_RUNS:-3}")"
printf '\n| page (a newly started browser with a new profile each run unless said) | runs | first paint, median (ms) | interactive (plotly), median (ms) |\n|---|---|---|---|\n'
printf '| board (rollups: mean + min/max envelope; canvas preview until plotly.js is compiled) | %s | %s | %s |\n' "$runs" "$board" "$board_ready"
printf '| board, first visit in a running browser (new context: empty cache) | %s | %s | %s |\n' "$runs" "$first" "$first_ready"
printf '| board, returning visitor (3rd visit, cached plotly.js) | 3 | %s | %s |\n' "$warm" "$warm_ready"
printf '| peer: all raw points (export JSON → plotly) | %s | %s | %s |\n' "${RAW_RUNS:-3}" "$raw" "$raw_ready"
python3 -c "b='$board'; i='$board_ready'; r='$raw'; ok=lambda v: v.replace('.','',1).isdigit(); print('ratio raw / board, first paint:', round(float(r)/float(b), 1) if ok(b) and ok(r) else 'n/a', ' interactive:', round(float(r)/float(i), 1) if ok(i) and ok(r) else 'n/a')"
