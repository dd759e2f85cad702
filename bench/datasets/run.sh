#!/usr/bin/env bash
# A dataset file through the platform vs the same bytes on the same disk, side by side: upload (PUT through Web's
# front door into the draft: streamed, hashed, stored) against `dd` writing the file with fsync, and download (GET
# through the front door) against `dd` reading it, warm (page cache) and, where the page cache can be dropped (root),
# cold: both from the disk itself. Prints MB/s of each, the ratios (goal >= 0.8), and the peak
# resident memory (VmHWM) of Web and Api before and after, which should not grow with the file's size.
#   bench/datasets/run.sh [size in MiB (1024)]
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mib=${1:-1024}

source bench/common.sh
start_platform
sign_up full
web=$WEB; key=$KEY; work=$WORK; port=$PORT
auth="Authorization: Bearer $key"
id=$(curl -s -H "$auth" -H 'Content-Type: application/json' -d '{"name":"bench"}' "$web/api/v1/datasets" | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')

pid_of() { pgrep -f "Platform.$1.dll" | head -1; }
hwm() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }
web_pid=$(pid_of Web); api_pid=$(pid_of Api)
web_before=$(hwm "$web_pid"); api_before=$(hwm "$api_pid")

file="$work/payload.bin"
head -c "$((size_mib * 1024 * 1024))" /dev/urandom >"$file"
now() { date +%s.%N; }
rate() { awk -v mib="$size_mib" -v s="$1" 'BEGIN { printf "%.0f", mib * 1.048576 / s }'; }

sync; t0=$(now); dd if="$file" of="$work/copy.bin" bs=1M conv=fsync status=none; t1=$(now)
disk_write=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
t0=$(now); dd if="$work/copy.bin" of=/dev/null bs=1M status=none; t1=$(now)
disk_read=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
rm -f "$work/copy.bin"
# A second peer for reads: one HTTP hop serving the same file from the same cache (python's http.server), so the
# cost of HTTP itself is visible beside the platform's two hops (front door, Api) and its access checks.
(cd "$work" && exec python3 -m http.server --bind 127.0.0.1 "$((port + 1))" >/dev/null 2>&1) &
peer_http=$!
sleep 1
t0=$(now); curl -s -o /dev/null "http://127.0.0.1:$((port + 1))/payload.bin"; t1=$(now)
http_read=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
kill "$peer_http" 2>/dev/null || true

t0=$(now)
code=$(curl -s -o "$work/put.json" -w '%{http_code}' -H "$auth" -H 'Content-Type: application/octet-stream' -T "$file" "$web/api/v1/datasets/$id/draft/files/payload.bin")
t1=$(now)
[ "$code" = 200 ] || { echo "upload answered $code: $(cat "$work/put.json")"; exit 1; }
upload=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
# Both sides read into /dev/null (the platform's object and the peer's copy are equally warm in the page cache);
# the bytes are checked in a separate pass so the check does not count against the platform.
curl -s -H "$auth" "$web/api/v1/datasets/$id/versions/draft/files/payload.bin" | cmp -s - "$file" || { echo "downloaded bytes differ"; exit 1; }
t0=$(now)
curl -s -H "$auth" -o /dev/null "$web/api/v1/datasets/$id/versions/draft/files/payload.bin"
t1=$(now)
download=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
# Cold reads, when this machine lets us drop the page cache (root): both sides then read from the disk itself, which is
# what "reading the same bytes on the same disk directly" means; the warm figures above compare with memory speed.
cold=""
if [ -w /proc/sys/vm/drop_caches ]; then
  drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
  cp "$file" "$work/cold.bin"; drop
  t0=$(now); dd if="$work/cold.bin" of=/dev/null bs=1M status=none; t1=$(now)
  cold_disk=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  rm -f "$work/cold.bin"; drop
  t0=$(now); curl -s -H "$auth" -o /dev/null "$web/api/v1/datasets/$id/versions/draft/files/payload.bin"; t1=$(now)
  cold_platform=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
  cold=1
fi
web_after=$(hwm "$web_pid"); api_after=$(hwm "$api_pid")

printf "Dataset file of %d MiB, through the front door vs dd on the same disk\n\n" "$size_mib"
printf "%-34s %8s %8s\n" "" "seconds" "MB/s"
printf "%-34s %8.2f %8s\n" "upload via platform (PUT, hashed)" "$upload" "$(rate "$upload")"
printf "%-34s %8.2f %8s\n" "peer: dd write + fsync" "$disk_write" "$(rate "$disk_write")"
printf "%-34s %8.2f %8s\n" "download via platform (GET)" "$download" "$(rate "$download")"
printf "%-34s %8.2f %8s\n" "peer: dd read (page cache)" "$disk_read" "$(rate "$disk_read")"
printf "%-34s %8.2f %8s\n" "peer: one HTTP hop (http.server)" "$http_read" "$(rate "$http_read")"
if [ -n "$cold" ]; then
  printf "%-34s %8.2f %8s\n" "download via platform, cold cache" "$cold_platform" "$(rate "$cold_platform")"
  printf "%-34s %8.2f %8s\n" "peer: dd read, cold cache" "$cold_disk" "$(rate "$cold_disk")"
fi
awk -v u="$upload" -v w="$disk_write" -v d="$download" -v r="$disk_read" -v h="$http_read" 'BEGIN {
  printf "\nratio platform / disk: upload %.2f, download %.2f (goal >= 0.8)\n", w / u, r / d
  printf "ratio platform / one HTTP hop: download %.2f\n", h / d }'
[ -n "$cold" ] && awk -v c="$cold_platform" -v d="$cold_disk" 'BEGIN { printf "ratio platform / disk, cold cache: download %.2f (goal >= 0.8)\n", d / c }'
printf "peak RSS (VmHWM) MiB: web %s -> %s, api %s -> %s\n" "$web_before" "$web_after" "$api_before" "$api_after"
