#!/usr/bin/env bash
# A dataset of 100,000 files: built through the API (small PUTs on keep-alive connections), then
#  - listing a page of 100 (first, middle and last page, by the keyset cursor) through the front door, against the
#    same keyset query run straight in PostgreSQL with psql (the floor: no HTTP, no access check, no JSON);
#  - walking every page of 1,000 (what `plat datasets files` and the SDK do) through the front door;
#  - publishing it (manifest over every row, new draft holding the same rows), against the same SQL work in psql
#    (a SHA-256 over the manifest lines plus copying the rows to a new version, rolled back).
# Prints medians, and the ratios platform / psql.
#   bench/datasets/listing.sh [files (100000)] [repeats per page (15)]
set -euo pipefail
cd "$(dirname "$0")/../.."
count=${1:-100000}
repeats=${2:-15}

source bench/common.sh
start_platform
sign_up full
auth="Authorization: Bearer $KEY"
id=$(curl -s -H "$auth" -H 'Content-Type: application/json' -d '{"name":"hundred-k"}' "$WEB/api/v1/datasets" | python3 -c 'import sys,json; print(json.load(sys.stdin)["id"])')

echo "uploading $count files ..." >&2
populate_s=$(python3 bench/datasets/populate.py "$WEB" "$KEY" "$id" "$count" 8)

# psql against the platform's own cluster (the launcher's superuser, password file and port).
pid_file=$( (ls "$WORK"/data/postgres/postmaster.pid /var/lib/platform/*/postgres/postmaster.pid 2>/dev/null || true) | head -1)
home=$(dirname "$(dirname "$pid_file")")
pg_port=$(sed -n 4p "$pid_file")
psql_bin=$(ls /usr/lib/postgresql/*/bin/psql 2>/dev/null | sort -V | tail -1); psql_bin=${psql_bin:-psql}
q() { PGPASSWORD=$(cat "$home/postgres.password") "$psql_bin" -h 127.0.0.1 -p "$pg_port" -U platform -d platform -X -q -At "$@"; }
draft=$(q -c "SELECT \"Id\" FROM \"ArtifactVersions\" WHERE \"ArtifactId\" = '$id' AND \"Number\" IS NULL")
files=$(q -c "SELECT count(*) FROM \"ArtifactFiles\" WHERE \"VersionId\" = '$draft'")
[ "$files" = "$count" ] || { echo "the draft has $files files, expected $count"; exit 1; }

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
last=$((count - 100))
after_mid=$(printf 'shard-%03d/sample-%06d.txt' $((count / 2 / 1000)) $((count / 2)))
after_last=$(printf 'shard-%03d/sample-%06d.txt' $(((last - 1) / 1000)) $((last - 1)))

# platform_page AFTER: median seconds of GET ?limit=100&after=AFTER, checking the page has 100 items.
platform_page() {
  local url="$WEB/api/v1/datasets/$id/versions/draft/files?limit=100${1:+&after=$1}"
  local n; n=$(curl -s -H "$auth" "$url" | python3 -c 'import sys,json; print(len(json.load(sys.stdin)["items"]))')
  [ "$n" = 100 ] || { echo "page after '$1' has $n items" >&2; exit 1; }
  for _ in $(seq "$repeats"); do curl -s -o /dev/null -w '%{time_total}\n' -H "$auth" "$url"; done | median
}
# psql_page AFTER: median seconds of the same keyset query inside one psql session (\timing, no connection cost).
psql_page() {
  for _ in $(seq "$repeats"); do
    echo "SELECT \"Path\", \"Size\", \"Sha256\", \"AddedAt\" FROM \"ArtifactFiles\" WHERE \"VersionId\" = '$draft' AND \"Path\" > '$1' ORDER BY \"Path\" LIMIT 101;"
  done | (echo '\timing on'; cat) | q 2>&1 | awk '/^Time:/ { print $2 / 1000 }' | median
}

declare -A plat peer
for page in first middle last; do
  case $page in first) after="" ;; middle) after=$after_mid ;; last) after=$after_last ;; esac
  plat[$page]=$(platform_page "$after")
  peer[$page]=$(psql_page "$after")
done

# Every page of 1,000 through the front door, following "next".
walk_s=$(python3 - "$WEB" "$KEY" "$id" "$count" <<'PY'
import http.client, json, sys, time, urllib.parse
base, key, dataset, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
u = urllib.parse.urlsplit(base)
conn = http.client.HTTPConnection(u.hostname, u.port)
after, seen, t0 = None, 0, time.monotonic()
while True:
    path = f"/api/v1/datasets/{dataset}/versions/draft/files?limit=1000" + (f"&after={urllib.parse.quote(after)}" if after else "")
    conn.request("GET", path, headers={"Authorization": f"Bearer {key}"})
    page = json.loads(conn.getresponse().read())
    seen += len(page["items"])
    after = page["next"]
    if not after:
        break
assert seen == count, (seen, count)
print(f"{time.monotonic() - t0:.3f}")
PY
)

# Publishing: the platform, then the same SQL work in psql (rolled back), twice each on fresh drafts is not
# possible (publishing changes the draft), so the peer runs right after, over the published rows.
t0=$(date +%s.%N)
code=$(curl -s -o "$WORK/publish.json" -w '%{http_code}' -X POST -H "$auth" "$WEB/api/v1/datasets/$id/draft/publish")
t1=$(date +%s.%N)
[ "$code" = 200 ] || { echo "publish answered $code: $(cat "$WORK/publish.json")"; exit 1; }
publish_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
v1=$(q -c "SELECT \"Id\" FROM \"ArtifactVersions\" WHERE \"ArtifactId\" = '$id' AND \"Number\" = 1")
t0=$(date +%s.%N)
q >/dev/null <<SQL
BEGIN;
SELECT encode(sha256(convert_to(string_agg("Path" || E'\t' || "Size" || E'\t' || "Sha256" || E'\n', '' ORDER BY "Path"), 'UTF8')), 'hex')
  FROM "ArtifactFiles" WHERE "VersionId" = '$v1';
INSERT INTO "ArtifactVersions" ("Id", "ArtifactId", "Number", "CreatedAt", "FileCount", "TotalBytes")
  VALUES ('00000000-0000-0000-0000-0000000000ff', '$id', 999, now(), $count, 0);
INSERT INTO "ArtifactFiles" ("VersionId", "Path", "Size", "Sha256", "ObjectKey", "AddedAt")
  SELECT '00000000-0000-0000-0000-0000000000ff', "Path", "Size", "Sha256", "ObjectKey", "AddedAt" FROM "ArtifactFiles" WHERE "VersionId" = '$v1';
ROLLBACK;
SQL
t1=$(date +%s.%N)
peer_publish_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')

printf "Dataset of %d files (uploaded through the API in %.1f s: %.0f files/s)\n\n" "$count" "$populate_s" "$(awk -v n="$count" -v s="$populate_s" 'BEGIN { print n / s }')"
printf "%-44s %12s %12s %8s\n" "" "platform ms" "psql ms" "ratio"
for page in first middle last; do
  printf "%-44s %12.1f %12.1f %8.1f\n" "list a page of 100 ($page)" "$(awk -v s="${plat[$page]}" 'BEGIN { print s * 1000 }')" \
    "$(awk -v s="${peer[$page]}" 'BEGIN { print s * 1000 }')" "$(awk -v a="${plat[$page]}" -v b="${peer[$page]}" 'BEGIN { print a / b }')"
done
printf "%-44s %12.0f %12s %8s\n" "walk all $count in pages of 1000" "$(awk -v s="$walk_s" 'BEGIN { print s * 1000 }')" "" ""
printf "%-44s %12.0f %12.0f %8.1f\n" "publish version 1 (manifest + new draft)" "$(awk -v s="$publish_s" 'BEGIN { print s * 1000 }')" \
  "$(awk -v s="$peer_publish_s" 'BEGIN { print s * 1000 }')" "$(awk -v a="$publish_s" -v b="$peer_publish_s" 'BEGIN { print a / b }')"
